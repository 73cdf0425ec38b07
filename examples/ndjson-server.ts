/**
 * A pipeline streamed to an HTTP client as NDJSON (one JSON document per line), from a
 * `node:http` server on 127.0.0.1: `toReadableStream()` pulls the pipeline as the response is
 * written, so a slow client slows the pipeline (backpressure), and a client that goes away
 * cancels the stream, which tears the run down (`onDone` runs).
 *
 * Run: npx -y pnpm@10 examples && node examples/dist/ndjson-server.js
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable, pipeline } from "node:stream";
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the server knows about the runs it served, for the caller to check. */
export interface ServerLog {
  /** Runs whose `onDone` ran (finished, failed or cancelled alike). */
  finished: number;
}

/** A handler that streams `count` records as NDJSON, each "looked up" with a short delay. */
export function ndjsonHandler(log: ServerLog) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const count = Number(new URL(request.url ?? "/", "http://localhost").searchParams.get("count") ?? "10");
    const lines = pipe(() => Array.from({ length: count }, (_, i) => i + 1))
      .map(
        async (id) => {
          await sleep(2);
          return { id, name: `record ${id}` };
        },
        { workers: 4, onDone: () => void log.finished++ },
      )
      .ordered()
      .map((record) => `${JSON.stringify(record)}\n`)
      .toReadableStream()
      .pipeThrough(new TextEncoderStream());
    response.writeHead(200, { "content-type": "application/x-ndjson" });
    // stream.pipeline destroys the Readable when the response closes early (the client went
    // away), and destroying a Readable.fromWeb cancels the web stream, which tears the run down.
    pipeline(Readable.fromWeb(lines as import("node:stream/web").ReadableStream<Uint8Array>), response, () => {
      // An error here is the client leaving; the run has been torn down already.
    });
  };
}

/** A running NDJSON server on 127.0.0.1: its port, what it served, and how to stop it. */
export interface NdjsonServer {
  readonly port: number;
  readonly log: ServerLog;
  close(): Promise<void>;
}

/** Starts the NDJSON server on a free port of 127.0.0.1. */
export async function startServer(): Promise<NdjsonServer> {
  const log: ServerLog = { finished: 0 };
  const server = createServer(ndjsonHandler(log));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    port,
    log,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** Starts the server, fetches `count` records over HTTP, prints them, and closes the server. */
export async function main(log: (line: string) => void = console.log, count = 25): Promise<{ ids: number[]; finished: number }> {
  const server = await startServer();
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/?count=${count}`);
    const text = await response.text();
    const ids = text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => (JSON.parse(line) as { id: number }).id);
    log(`received ${ids.length} records as NDJSON (${response.headers.get("content-type")}), ids ${ids[0]}..${ids.at(-1)}`);
    return { ids, finished: server.log.finished };
  } finally {
    await server.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
