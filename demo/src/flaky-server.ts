import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One record of the demo API. */
export interface ApiRecord {
  readonly id: number;
  readonly name: string;
  readonly score: number;
}

/** How the server treats one record: decided by the record's id, so every run (and the sequential baseline) sees the same behaviour. */
export type Behaviour =
  | { readonly kind: "ok"; readonly latencyMs: number }
  | { readonly kind: "fail"; readonly latencyMs: number; readonly status: 500 | 503 }
  | { readonly kind: "hang" };

/** A running flaky API. */
export interface FlakyServer {
  /** `http://127.0.0.1:<port>`, a port the OS picked. */
  readonly url: string;
  /** Requests received so far. */
  readonly requests: () => number;
  /** Requests refused with a 429 because the server was past its capacity. */
  readonly refused: () => number;
  /** Stops listening, drops every connection (including requests left hanging) and resolves when closed. */
  close(): Promise<void>;
}

// A small integer hash, so that behaviour depends on the id only (no Math.random).
function hash(id: number, salt: number): number {
  let h = Math.imul(id ^ salt, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 0x1_0000_0000; // in [0, 1)
}

/**
 * Latency with a long tail, like a real API: most answers in 20-120 ms, some in 120-400 ms, a
 * few in 400-900 ms (before the server's load slows them, see {@link loadFactor}); 4% fail with a 500 or 503 and 1% never answer. A 503 is
 * transient (see {@link startFlakyServer}); a 500 and a hang are for good.
 */
export function behaviourOf(id: number): Behaviour {
  const roll = hash(id, 1);
  if (roll < 0.01) return { kind: "hang" };
  const u = hash(id, 2);
  const tail = hash(id, 3);
  const latencyMs = Math.round(tail < 0.8 ? 20 + 100 * u : tail < 0.95 ? 120 + 280 * u : 400 + 500 * u);
  if (roll < 0.05) return { kind: "fail", latencyMs, status: roll < 0.03 ? 500 : 503 };
  return { kind: "ok", latencyMs };
}

/** Requests the server serves at once before it refuses more with a 429 (its knee). */
export const DEFAULT_CAPACITY = 24;

/**
 * How much slower every answer is with `busy` requests in flight on a server of `capacity`:
 * hardly at all while lightly loaded, twice as slow at the knee, as a real service whose
 * queues fill up.
 */
export function loadFactor(busy: number, capacity: number): number {
  return 1 + (busy / capacity) ** 4;
}

/**
 * Answers one request. `attempts` counts the requests for each 503 record: every odd one gets
 * the 503, every even one the record, so a retry recovers it, in every run on this server.
 */
function respond(request: IncomingMessage, response: ServerResponse, attempts: Map<number, number>, load: number): void {
  const match = /^\/records\/(\d+)$/.exec(request.url ?? "");
  if (request.method !== "GET" || match === null) {
    response.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
    return;
  }
  const id = Number(match[1]);
  const behaviour = behaviourOf(id);
  if (behaviour.kind === "hang") return; // never answer: only the client's timeout ends this request
  let transientOk = false;
  if (behaviour.kind === "fail" && behaviour.status === 503) {
    const count = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, count);
    transientOk = count % 2 === 0;
  }
  const timer = setTimeout(() => {
    if (behaviour.kind === "fail" && !transientOk) {
      response.writeHead(behaviour.status, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: behaviour.status === 500 ? "internal error" : "service unavailable" }));
      return;
    }
    const record: ApiRecord = { id, name: `record-${id}`, score: Math.round(hash(id, 4) * 1000) };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(record));
  }, behaviour.latencyMs * load);
  // A client that gave up (a timeout, Ctrl-C) closes the connection and needs no answer.
  response.once("close", () => clearTimeout(timer));
}

/**
 * Starts the flaky API on 127.0.0.1 on a free port. It serves at most `capacity` requests at
 * once (answers slow down as it fills, see {@link loadFactor}); one more is refused at once
 * with a 429 Too Many Requests, as an API behind a rate limiter or a load shedder does.
 */
export async function startFlakyServer(capacity = DEFAULT_CAPACITY): Promise<FlakyServer> {
  let requests = 0;
  let refused = 0;
  let busy = 0;
  const attempts = new Map<number, number>();
  const server = createServer((request, response) => {
    requests++;
    if (busy >= capacity) {
      refused++;
      response.writeHead(429, { "content-type": "application/json", "retry-after": "0" }).end('{"error":"too many requests"}');
      return;
    }
    busy++;
    // "close" follows both an answer and a client that gave up: the request no longer loads the server.
    response.once("close", () => busy--);
    respond(request, response, attempts, loadFactor(busy, capacity));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
