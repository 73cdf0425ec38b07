/**
 * H. CPU-bound: 2,000 elements, each about 1 ms of hashing (a JavaScript hash, see
 * cpu-work.ts), through one map stage. On the main thread one call runs at a time whatever
 * `workers` says; on a piscina pool the calls run on the machine's cores. Compared: the same
 * stage on the main thread, the same work submitted straight to the same pool by a
 * hand-written bounded loop, and sluice's two ways onto threads.
 *
 * The pool has one thread more than the machine has CPUs, with as many calls in flight. A call
 * that carries an `AbortSignal` (every sluice call does, so that `timeout` and teardown reach
 * the thread) runs alone on its thread in piscina, which therefore cannot queue the next call
 * on the thread: between two calls the thread waits for the main thread to hear of the result
 * and send the next one. The extra thread keeps the cores busy meanwhile (docs/benchmarks.md).
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { pipe } from "@sluice/dsl";
import { mapOnThreads, onThreads } from "@sluice/piscina";
import fingerprint, { roundsFor, type CpuTask } from "./cpu-work.js";
import { range, workerPool } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const WORK_MS = 1;
const WORKER = new URL("./cpu-work.js", import.meta.url);

// An order-insensitive checksum of 32-bit fingerprints.
function checksum(values: readonly number[]): string {
  let xor = 0;
  let sum = 0;
  for (const v of values) {
    xor ^= v;
    sum = (sum + v) % 4_294_967_296;
  }
  return `n=${values.length} xor=${xor} sum=${sum}`;
}

export function scenarioH(mode: Mode): TimedScenario {
  const n = scaled(mode, 2_000, 20);
  const threads = availableParallelism() + 1;
  const rounds = roundsFor(WORK_MS);
  const tasks: CpuTask[] = range(n).map((seed) => ({ seed, rounds }));
  // One pool for the loop and onThreads, started here so that no system pays for its threads.
  const pool = new Piscina<CpuTask, number>({ filename: WORKER.href, minThreads: threads, maxThreads: threads });
  const fingerprintOnPool = onThreads<typeof fingerprint>(pool);
  return {
    id: "H",
    title: "CPU-bound on worker threads",
    description: `${n.toLocaleString("en-US")} elements, each ${rounds.toLocaleString("en-US")} rounds of a JavaScript hash (about ${WORK_MS} ms on this machine's main thread), one map stage; ${threads} threads (one per CPU and one more), ${threads} calls in flight. Ratio = main thread's time / system's time.`,
    reference: "sluice, main thread",
    roundsFactor: 0.6,
    systems: [
      {
        name: "sluice, main thread",
        note: "`pipe(tasks).map(fingerprint)`: the same stage with the work on the event loop's thread",
        run: async () => checksum(await pipe(tasks).map(fingerprint)),
      },
      {
        name: "loop on the pool",
        note: `${threads} hand-written async loops over one iterator, each awaiting \`pool.run(task)\` on the shared pool: the floor of what submitting to piscina costs`,
        run: async () => checksum(await workerPool(tasks, threads, (task) => pool.run(task))),
      },
      {
        name: "sluice onThreads",
        note: `\`pipe(tasks).map(onThreads(pool), { workers: ${threads} })\` on the same shared pool`,
        run: async () => checksum(await pipe(tasks).map(fingerprintOnPool, { workers: threads })),
      },
      {
        name: "sluice mapOnThreads",
        informative: true,
        note: `\`pipe(tasks).through(mapOnThreads(worker, { workers: ${threads} }))\`: a pool of the stage's own, whose ${threads} threads start and stop within every run`,
        run: async () => checksum(await pipe(tasks).through(mapOnThreads<typeof fingerprint>(WORKER, { workers: threads }))),
      },
    ],
    targets: [
      { system: "sluice onThreads", against: "sluice, main thread", metric: "throughput", value: 1.7, label: ">= 1.7x main thread" },
      { system: "sluice onThreads", against: "loop on the pool", metric: "throughput", value: 0.95, label: ">= 0.95x the loop" },
    ],
    close: () => pool.destroy(),
  };
}
