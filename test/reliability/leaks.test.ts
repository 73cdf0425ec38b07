/**
 * Leaks (docs/behaviour.md §7 "Abort listeners are removed when a run ends, so a long-lived caller signal
 * does not leak"): 10,000 runs ending by break, by error and by abort, with forced GC.
 *
 * Runs ending by break or error pass one long-lived caller signal that is never aborted.
 * A run ending by abort needs a signal that aborts, so it gets its own controller (linking it
 * to the long-lived one with AbortSignal.any would measure Node's own bookkeeping: in Node 20
 * that alone grows the heap by about 1 MB per 10,000 signals).
 */
import { getEventListeners } from "node:events";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeoutError, pipe } from "@sluice/dsl";
import { UnhandledRejections, settleEventLoop, sleep } from "./support.js";

// A forced full GC without a CLI flag, so the root vitest config stays as it is.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await settleEventLoop();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const shared = new AbortController().signal;
const listenersOnShared = (): number => getEventListeners(shared, "abort").length;

const stop = new Error("stop");
let listenerSeenDuringRun = 0;
let listenersLeftOnOwnSignals = 0;

const source = Array.from({ length: 24 }, (_, i) => i);
const hooks = {
  onStart: () => ({ client: { open: true } }),
  onDone: ({ client }: { client: { open: boolean } }) => void (client.open = false),
};

/** One run; `i` picks how it ends. */
async function oneRun(i: number): Promise<void> {
  switch (i % 3) {
    case 0: {
      // break, with a mid-chain async stage and hooks
      const pipeline = pipe(source)
        .map(async (x) => x * 2, { workers: 3, ...hooks })
        .filter((x) => x % 3 !== 0);
      for await (const x of pipeline.iterate({ signal: shared })) {
        if (listenersOnShared() > 0) listenerSeenDuringRun++;
        if (x >= 8) break;
      }
      return;
    }
    case 1: {
      // error (every 100th run: a timeout instead of a thrown error)
      const timeout = i % 100 === 1;
      const pipeline = pipe(source)
        .map((x, ctx) => (timeout && x === 4 ? new Promise<number>((r) => ctx.signal.addEventListener("abort", () => r(x))) : x), {
          workers: 2,
          ...(timeout ? { timeout: 1 } : {}),
        })
        .map(
          async (x) => {
            if (x === 6) throw stop;
            return x;
          },
          { workers: 2, ...hooks },
        );
      const error = await pipeline.toArray({ signal: shared }).catch((e: unknown) => e);
      if (error !== stop && !(error instanceof TimeoutError)) throw new Error(`unexpected outcome ${String(error)}`);
      return;
    }
    default: {
      // abort, from a microtask started inside f
      const controller = new AbortController();
      const pipeline = pipe(source).map(
        (x) => {
          if (x === 5) queueMicrotask(() => controller.abort(stop));
          return Promise.resolve(x);
        },
        { workers: 2, ...hooks },
      );
      const error = await pipeline.toArray({ signal: controller.signal }).catch((e: unknown) => e);
      if (error !== stop) throw new Error(`unexpected outcome ${String(error)}`);
      listenersLeftOnOwnSignals += getEventListeners(controller.signal, "abort").length;
    }
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;

describe("leaks", () => {
  it("10,000 runs ending by break, error and abort leave the caller's signals without listeners, no timers behind, and the heap flat", async () => {
    const listenersAtStart = listenersOnShared();
    const timersAtStart = timers();
    for (let i = 0; i < 1_500; i++) await oneRun(i); // warm-up: JIT, inline caches, pools
    const heapBefore = await heapAfterGc();
    for (let i = 0; i < 10_000; i++) await oneRun(i);
    await sleep(5);
    const heapAfter = await heapAfterGc();

    expect(listenerSeenDuringRun).toBeGreaterThan(0); // the runs did listen to the shared signal
    expect(listenersOnShared()).toBe(listenersAtStart);
    expect(listenersLeftOnOwnSignals).toBe(0);
    expect(timers()).toBeLessThanOrEqual(timersAtStart);
    expect(unhandled.count).toBe(0);
    // Under 100 bytes per run. A leaked listener keeps its closure and the run it points to (many
    // KB); the heap measured here moves by at most ~0.4 MB in total between warm-up and the end.
    expect(heapAfter - heapBefore).toBeLessThan(1_000_000);
  }, 60_000);

  it("the heap check is sensitive: keeping one small closure per run for 10,000 runs exceeds its limit", async () => {
    const kept: Array<() => number> = [];
    const heapBefore = await heapAfterGc();
    for (let i = 0; i < 10_000; i++) {
      const run = { i, payload: [i, i + 1, i + 2] };
      kept.push(() => run.i);
    }
    const heapAfter = await heapAfterGc();
    expect(heapAfter - heapBefore).toBeGreaterThan(1_000_000);
    expect(kept).toHaveLength(10_000);
  });
});
