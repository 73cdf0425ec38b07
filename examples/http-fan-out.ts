// HTTP fan-out: many requests in flight through one shared, keep-alive connection pool.
// onStart creates the pool once per run and puts it in every call's ctx; onDone closes it,
// whether the run succeeds, fails or is cancelled. ctx.signal cancels a request on teardown.
// Run: npx -y pnpm@10 examples && node examples/dist/http-fan-out.js
import { Agent, createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

interface Book {
  readonly id: number;
  readonly title: string;
}

/** A small local JSON API (so the example needs no network) that counts the TCP connections it accepts. */
async function startBookServer(): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((request, response) => {
    const id = Number(request.url?.split("/").pop());
    setTimeout(() => {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ id, title: `Book ${id}` } satisfies Book));
    }, 5 + (id % 7) * 5); // uneven latency, so responses finish out of order
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, connections: () => connections };
}

/** GET a JSON document through `agent`; aborting `signal` destroys the request. */
function getJson<T>(url: string, agent: Agent, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, signal }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        if (response.statusCode === 200) resolve(JSON.parse(body) as T);
        else reject(new Error(`GET ${url}: HTTP ${response.statusCode}`));
      });
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

export async function main(log: (line: string) => void = console.log): Promise<{ titles: string[]; connections: number; closed: boolean }> {
  const api = await startBookServer();
  const workers = 8;
  let closed = false;
  try {
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    const books = await pipe(ids)
      .map((id, ctx) => getJson<Book>(`${api.url}/books/${id}`, ctx.agent, ctx.signal), {
        workers,
        // Write onStart without an untyped parameter (`() =>` or `(info: HookInfo) =>`) so
        // that TypeScript carries its result type into ctx: ctx.agent is an Agent here.
        onStart: () => ({ agent: new Agent({ keepAlive: true, maxSockets: workers }) }),
        onDone: ({ agent }) => {
          agent.destroy();
          closed = true;
        },
      })
      .ordered(); // responses arrive out of order; put them back in id order

    const titles = books.map((book) => book.title);
    log(`fetched ${titles.length} books: ${titles.slice(0, 3).join(", ")}, ..., ${titles.at(-1)}`);
    log(`${ids.length} requests used ${api.connections()} connections (the pool allows ${workers})`);
    log(`agent closed by onDone: ${closed}`);
    return { titles, connections: api.connections(), closed };
  } finally {
    api.server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
