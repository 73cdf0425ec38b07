// CPU-bound work on worker threads: fingerprinting 200 chunks of bytes (iterated SHA-256),
// first on a piscina pool of our own shared by two runs, then on a pool the stage owns.
// Run: npx -y pnpm@10 examples && node examples/dist/cpu-bound.js
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { pipe } from "@sluice/dsl";
import { mapOnThreads, onThreads } from "@sluice/piscina";
// The worker's own function: its type types the pipelines, and it checks their results here.
import hashChunk from "./hash-worker.mjs";

// The compiled example finds the worker beside it: tsc copies hash-worker.mjs into dist/.
const WORKER = new URL("./hash-worker.mjs", import.meta.url);
const THREADS = 2;
const ROUNDS = 300;

type Task = Parameters<typeof hashChunk>[0];

// A fresh set per run: a chunk's buffer is moved to the thread, which detaches it here.
function chunks(): Task[] {
  return Array.from({ length: 200 }, (_, i) => {
    const bytes = new Uint8Array(4_096);
    for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 7) & 0xff;
    return { name: `chunk-${i}`, bytes, rounds: ROUNDS };
  });
}

export async function main(log: (line: string) => void = console.log): Promise<{ owned: string[]; shared: string[]; expected: string[]; transferred: boolean }> {
  const expected = chunks().map((task) => hashChunk(task).digest);

  // 1. A pool of our own, long-lived and shared: as many threads as the stage has workers.
  const pool = new Piscina({ filename: WORKER.href, maxThreads: THREADS });
  let shared: string[] = [];
  let transferred = false;
  try {
    const fingerprint = onThreads<typeof hashChunk>(pool, { transfer: (task) => [task.bytes.buffer] });
    const sent = chunks();
    const results = await pipe(sent).map(fingerprint, { workers: THREADS, timeout: 10_000 }).ordered();
    shared = results.map((result) => result.digest);
    transferred = sent.every((task) => task.bytes.byteLength === 0); // moved, not copied
    log(`shared pool: ${results.length} chunks fingerprinted, first ${results[0]?.name} ${shared[0]?.slice(0, 16)}...`);
  } finally {
    await pool.destroy();
  }

  // 2. A pool the stage owns: created when the run starts the stage, destroyed when it ends.
  const owned = (
    await pipe(chunks)
      .through(mapOnThreads<typeof hashChunk>(WORKER, { workers: THREADS }))
      .ordered()
  ).map((result) => result.digest);
  log(`stage's own pool: ${owned.length} chunks fingerprinted, same digests: ${owned.every((digest, i) => digest === shared[i])}`);

  return { owned, shared, expected, transferred };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
