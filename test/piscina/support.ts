/**
 * Shared by the test/piscina files: the worker module's URL and its exports' types, a count
 * of live worker threads, and small waits.
 */
import { createRequire } from "node:module";
import type * as threads from "node:worker_threads";

/** The worker module every test runs (plain JavaScript: Node 20 cannot load a .ts worker). */
export const COMPUTE = new URL("./workers/compute.mjs", import.meta.url).href;

/** The types of workers/compute.mjs's exports, as a TypeScript worker module would give them. */
export type Square = (task: { value: number; spin?: number }) => number;
export type SlowLength = (task: { text: string; ms?: number }) => Promise<number>;
export type SpinForever = (task: { counter: Int32Array }) => never;
export type ParseOrThrow = (task: { text: string }) => string;
export type ExitThread = (task: { code: number }) => never;
export type SumBytes = (buffer: ArrayBuffer) => ArrayBuffer;
export type FailTimes = (task: { counter: Int32Array; failures: number; value: number }) => number;
export type Dispatch = (task: { value: number } | { counter: Int32Array }) => number;
export type LateThrow = (task: { value: number }) => number;
export type ThrowNothing = (task: { value: number }) => number;
export type ReturnNull = (task: unknown) => null;

// Every Worker the process creates, counted until its exit event: piscina reads
// `worker_threads.Worker` when it starts a thread, so replacing it here counts the pool's threads.
// The counts live on globalThis: module instances may be fresh per test file, the built-in is not.
const KEY = Symbol.for("sluice.test.threadCounts");
const holder = globalThis as { [KEY]?: { started: number; live: number } };
const counts = (holder[KEY] ??= installCounter());

function installCounter(): { started: number; live: number } {
  const counted = { started: 0, live: 0 };
  const workerThreads = createRequire(import.meta.url)("node:worker_threads") as typeof threads;
  const Original = workerThreads.Worker;
  class CountedWorker extends Original {
    constructor(...args: ConstructorParameters<typeof Original>) {
      super(...args);
      counted.started++;
      counted.live++;
      this.once("exit", () => counted.live--);
    }
  }
  (workerThreads as { Worker: typeof Original }).Worker = CountedWorker;
  return counted;
}

/** Worker threads started so far, and those not yet exited. */
export function threadCounts(): { readonly started: number; readonly live: number } {
  return { ...counts };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `condition()` holds, checking every 5 ms; fails after `ms`. */
export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(5);
  }
}

/** A counter the worker's `spinForever` increments live, and a way to see that it stopped. */
export function spinCounter(): {
  counter: Int32Array;
  value: () => number;
  stopped: () => Promise<boolean>;
  stopsWithin: (ms: number) => Promise<boolean>;
} {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const value = () => Atomics.load(counter, 0);
  return {
    counter,
    value,
    // A thread still spinning adds thousands in 50 ms; a terminated one adds nothing.
    stopped: async () => {
      const before = value();
      await sleep(50);
      return value() === before;
    },
    // For a thread terminated without anyone waiting for its exit (a call abandoned by its timeout).
    stopsWithin: async (ms: number) => {
      const deadline = Date.now() + ms;
      for (let before = value(); Date.now() < deadline; ) {
        await sleep(20);
        if (value() === before) return true;
        before = value();
      }
      return false;
    },
  };
}
