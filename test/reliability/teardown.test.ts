/**
 * Errors, hooks and teardown, one promise per test (SPEC §3 hooks, §7): the first error wins
 * as the same object, non-Error throws surface unchanged, onStart/onDone run when they are
 * owed, and teardown closes sources and expansions, aborts calls and waits for them (except
 * calls abandoned by their timeout) before the consumer settles.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeoutError, pipe, type Pipeline } from "@sluice/dsl";
import { UnhandledRejections, settleEventLoop, sleep, sorted } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

/** Consumes `pipeline` through every consumer and returns what each one threw. */
async function errorsFromEveryConsumer(pipeline: Pipeline<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const capture = async (run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
      seen.push("<no error>");
    } catch (error) {
      seen.push(error);
    }
  };
  await capture(() => pipeline.toArray());
  await capture(async () => await pipeline);
  await capture(() => pipeline.run());
  await capture(async () => {
    for await (const _ of pipeline) void _;
  });
  await capture(async () => {
    const iterator = pipeline.iterate();
    while ((await iterator.next()).done !== true);
  });
  return seen;
}

describe("errors", () => {
  it("thrown non-Error values (a string, undefined, null, 0, an object) surface unchanged through every consumer", async () => {
    const before = unhandled.count;
    const object = { reason: "plain object" };
    for (const value of ["x", undefined, null, 0, object]) {
      const sync = pipe([1, 2, 3]).map((x) => {
        if (x === 2) throw value;
        return x;
      });
      const async = pipe([1, 2, 3]).map(async (x) => {
        await sleep(0);
        if (x === 2) throw value;
        return x;
      }, { workers: 2 });
      for (const pipeline of [sync, async]) {
        const seen = await errorsFromEveryConsumer(pipeline);
        expect(seen).toHaveLength(5);
        for (const error of seen) expect(Object.is(error, value)).toBe(true);
      }
    }
    await settleEventLoop();
    expect(unhandled.count).toBe(before);
  });

  it("f returning Promise.reject() with no reason fails the run with undefined, without an unhandled rejection", async () => {
    const before = unhandled.count;
    let done = 0;
    const seen = await errorsFromEveryConsumer(pipe([1, 2]).map(() => Promise.reject(), { onDone: () => void done++ }));
    expect(seen).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(done).toBe(5);
    await settleEventLoop();
    expect(unhandled.count).toBe(before);
  });

  it("the first error wins: an f that rejects with its aborted signal's reason, or with a new error, after the failure does not replace it", async () => {
    const before = unhandled.count;
    const first = new Error("first");
    for (const late of ["reason", "new"] as const) {
      const lateErrors: unknown[] = [];
      const pipeline = pipe([0, 1, 2, 3, 4, 5]).map(
        (x, { signal }) =>
          new Promise<number>((resolve, reject) => {
            if (x === 3) return reject(first);
            // Like fetch: a call that rejects when its signal aborts.
            signal.addEventListener("abort", () => {
              const error = late === "reason" ? signal.reason : new Error(`late ${x}`);
              lateErrors.push(error);
              reject(error);
            });
            setTimeout(() => resolve(x), 50);
          }),
        { workers: 6 },
      );
      await expect(pipeline.toArray()).rejects.toBe(first);
      expect(lateErrors).toHaveLength(5);
    }
    await settleEventLoop();
    expect(unhandled.count).toBe(before);
  });
});

describe("hooks", () => {
  it("an asynchronous onStart failure fails the run with it; stages whose onStart succeeded get onDone, the failed stage does not", async () => {
    const log: string[] = [];
    const error = new Error("async onStart failed");
    let calls = 0;
    const pipeline = pipe([1, 2, 3])
      .map((x) => (calls++, x), { onStart: async () => void log.push("start 1"), onDone: () => void log.push("done 1") })
      .map((x) => (calls++, x), {
        onStart: async () => {
          await sleep(1);
          throw error;
        },
        onDone: () => void log.push("done 2"),
      });
    await expect(pipeline.toArray()).rejects.toBe(error);
    expect(log.sort()).toEqual(["done 1", "start 1"]);
  });

  it("onDone runs after every in-flight call of its stage has settled, also on teardown", async () => {
    let inFlight = 0;
    let inFlightAtDone = -1;
    const error = new Error("stop");
    const pipeline = pipe([0, 1, 2, 3, 4, 5, 6, 7]).map(
      async (x) => {
        inFlight++;
        try {
          await sleep(x === 0 ? 0 : 10);
          if (x === 0) throw error;
          return x;
        } finally {
          inFlight--;
        }
      },
      { workers: 4, onDone: () => void (inFlightAtDone = inFlight) },
    );
    await expect(pipeline.toArray()).rejects.toBe(error);
    expect(inFlightAtDone).toBe(0);
    expect(inFlight).toBe(0);
  });
});

describe("cleanup", () => {
  it("teardown does not wait for a source next() that never settles, and still calls return()", async () => {
    let returned = 0;
    let done = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: () => (i < 3 ? Promise.resolve({ done: false as const, value: i++ }) : new Promise<never>(() => {})),
          return: () => {
            returned++;
            return Promise.resolve({ done: true as const, value: undefined });
          },
        };
      },
    };
    const controller = new AbortController();
    const reason = new Error("give up");
    setTimeout(() => controller.abort(reason), 10);
    await expect(pipe(source).map((x) => x, { onDone: () => void done++ }).toArray({ signal: controller.signal })).rejects.toBe(reason);
    expect(returned).toBe(1);
    expect(done).toBe(1);
  });

  it("a throw in the loop body ends the loop with that error after return() and every onDone ran", async () => {
    const log: string[] = [];
    const thrown = { mine: true };
    const source = function* (): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        log.push("source closed");
      }
    };
    const pipeline = pipe(source)
      .map(async (x) => x, { workers: 3, onDone: () => void log.push("done 1") })
      .filter((x) => x % 2 === 0, { onDone: () => void log.push("done 2") });
    try {
      for await (const x of pipeline) if (x === 6) throw thrown;
    } catch (error) {
      expect(error).toBe(thrown);
      log.push("caught");
    }
    expect(log.sort()).toEqual(["caught", "done 1", "done 2", "source closed"]);
  });

  it("a call abandoned by its timeout is not waited for; its late rejection is dropped without an unhandled rejection", async () => {
    const before = unhandled.count;
    let lateRejected = false;
    const pipeline = pipe([1, 2]).map(
      (x, { signal }) =>
        new Promise<number>((resolve, reject) => {
          if (x === 1) return resolve(x);
          // Ignores its signal for a while, then rejects: an abandoned call.
          setTimeout(() => {
            lateRejected = true;
            reject(new Error("too late"));
          }, 40);
          void signal;
        }),
      { timeout: 10, workers: 2 },
    );
    const error = await pipeline.toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).index).toEqual([1]);
    expect(lateRejected).toBe(false);
    await sleep(50);
    expect(lateRejected).toBe(true);
    expect(unhandled.count).toBe(before);
  });

  it('onTimeout: "skip" drops exactly the timed-out elements and keeps the rest', async () => {
    const output = await pipe([0, 1, 2, 3, 4, 5, 6, 7]).map(
      (x, { signal }) =>
        x % 3 === 0
          ? new Promise<number>((resolve) => signal.addEventListener("abort", () => resolve(-1)))
          : x,
      { timeout: 10, onTimeout: "skip", workers: 4 },
    );
    expect(sorted(output)).toEqual([1, 2, 4, 5, 7]);
  });
});
