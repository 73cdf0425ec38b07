// A rate-limited API client: a local server allows 20 requests per rolling 200 ms and answers
// 429 with Retry-After beyond that. The pipeline runs 8 requests at a time but starts at most
// 15 per 200 ms through a shared limiter, and if the server still says 429 it pauses the
// limiter for the Retry-After time, waits as long, and tries that element again.
// Run: npx -y pnpm@10 examples && node examples/dist/rate-limited-client.js
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { pipe, rateLimiter } from "@sluice/dsl";

const LIMIT = 20;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const INTERVAL = 200;

/** A server that enforces the limit itself (a sliding window of request times) and answers 429 past it. */
function startServer(): { server: ReturnType<typeof createServer>; refused: () => number } {
  const recent: number[] = [];
  let refused = 0;
  const server = createServer((request, response) => {
    const now = Date.now();
    while (recent.length > 0 && recent[0]! <= now - INTERVAL) recent.shift();
    if (recent.length >= LIMIT) {
      refused++;
      response.writeHead(429, { "retry-after": "0.2" }).end();
      return;
    }
    recent.push(now);
    const id = Number(new URL(request.url ?? "/", "http://localhost").searchParams.get("id"));
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id, name: `item ${id}` }));
  });
  return { server, refused: () => refused };
}

export async function main(log: (line: string) => void = console.log, count = 60): Promise<{ items: number; refused: number }> {
  const { server, refused } = startServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  // Under the server's limit: requests reach the server a little after they start, unevenly.
  const api = rateLimiter({ limit: LIMIT - 5, interval: INTERVAL });
  const fetchItem = async (id: number): Promise<{ id: number; name: string }> => {
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${port}/?id=${id}`);
      if (response.status !== 429) return (await response.json()) as { id: number; name: string };
      // Hold every other start too, and wait before this element's own retry.
      const wait = Number(response.headers.get("retry-after") ?? "1") * 1_000;
      api.pauseFor(wait);
      await sleep(wait);
    }
  };
  try {
    const items = await pipe(() => Array.from({ length: count }, (_, i) => i + 1))
      .map(fetchItem, { workers: 8, rateLimit: api })
      .ordered();
    log(`fetched ${items.length} items, ${refused()} requests refused with 429`);
    return { items: items.length, refused: refused() };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
