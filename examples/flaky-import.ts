// Importing records from a flaky API, without try/catch or counters: a local server answers
// some requests with 503 and a Retry-After header the first time, one record always with
// 500, and serves a few records that are malformed. The pipeline retries with back-off
// (honouring Retry-After, never retrying a 4xx), validates each record with a zod schema
// through parse(), and collects the failures instead of failing the job: toResult() gives
// the records and one ElementError per record given up on.
// Run: npx -y pnpm@10 examples && node examples/dist/flaky-import.js
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ValidationError, pipe } from "@sluice/dsl";

/** What a record must look like. */
const Record = z.object({ id: z.number().int(), name: z.string().min(1), price: z.number().nonnegative() });

class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    /** The server's Retry-After, in ms, if it sent one. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Every 4th id fails with 503 on its first request; id 13 always fails; ids 7 and 21 are malformed. */
function startServer(): { server: ReturnType<typeof createServer>; requests: () => number } {
  const seen = new Set<number>();
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    const id = Number(new URL(request.url ?? "/", "http://localhost").searchParams.get("id"));
    if (id === 13) return void response.writeHead(500).end();
    if (id % 4 === 0 && !seen.has(id)) {
      seen.add(id);
      return void response.writeHead(503, { "retry-after": "0.02" }).end();
    }
    const record = id === 7 || id === 21 ? { id, name: "", price: -1 } : { id, name: `item ${id}`, price: id * 1.5 };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(record));
  });
  return { server, requests: () => requests };
}

export async function main(
  log: (line: string) => void = console.log,
  count = 40,
): Promise<{ imported: number; invalid: number; failed: number; requests: number }> {
  const { server, requests } = startServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  const fetchJson = async (id: number, { signal }: { signal: AbortSignal }): Promise<unknown> => {
    const response = await fetch(`http://127.0.0.1:${port}/?id=${id}`, { signal });
    if (response.status !== 200) {
      await response.body?.cancel();
      const retryAfter = response.headers.get("retry-after");
      throw new HttpError(response.status, retryAfter === null ? undefined : Number(retryAfter) * 1_000);
    }
    return response.json();
  };

  try {
    const { results, errors } = await pipe(Array.from({ length: count }, (_, i) => i + 1))
      .map(fetchJson, {
        workers: 8,
        timeout: 2_000,
        retry: {
          retries: 2,
          minDelay: 10,
          shouldRetry: (error) => !(error instanceof HttpError && error.status < 500), // a 4xx will not get better
          delay: (error) => (error instanceof HttpError ? error.retryAfterMs : undefined), // undefined: the back-off
        },
        onError: "collect",
      })
      .parse(Record, { onError: "collect" })
      .ordered()
      .toResult();

    const invalid = errors.filter((failure) => failure.error instanceof ValidationError);
    log(`imported ${results.length} of ${count} records with ${requests()} requests`);
    for (const failure of errors) {
      const what = failure.error instanceof ValidationError ? "invalid" : `failed after ${failure.attempts} attempts`;
      log(`  record ${failure.index[0]! + 1} (${failure.stage}): ${what}: ${(failure.error as Error).message}`);
    }
    return { imported: results.length, invalid: invalid.length, failed: errors.length - invalid.length, requests: requests() };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
