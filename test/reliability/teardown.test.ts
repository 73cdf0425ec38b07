/**
 * Errors, hooks and teardown, one promise per test (docs/behaviour.md §3 hooks, §7): the first error wins
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

  it("two stages whose onStart both throw synchronously: the first error wins and the run settles", async () => {
    const thrown: Error[] = [];
    let dones = 0;
    const failingStart = (name: string) => (): never => {
      const error = new Error(name);
      thrown.push(error);
      throw error;
    };
    const pipeline = pipe([1, 2])
      .each(() => {}, { onStart: failingStart("stage 1"), onDone: () => void dones++ })
      .map((x) => x, { onStart: failingStart("stage 2"), onDone: () => void dones++ });
    const outcome = await Promise.race([pipeline.toArray().catch((e: unknown) => e), sleep(1_000).then(() => "never settled")]);
    expect(thrown).toHaveLength(2);
    expect(outcome).toBe(thrown[0]);
    expect(dones).toBe(0);
  });

  it("a synchronous onStart failure still runs onStart and onDone of every other stage", async () => {
    const log: string[] = [];
    const error = new Error("onStart failed");
    const pipeline = pipe([1, 2, 3])
      .map((x) => x, { onDone: () => void log.push("done 1") })
      .map((x) => x, {
        onStart: () => {
          log.push("start 2");
          return {};
        },
        onDone: () => void log.push("done 2"),
      })
      .map((x) => x, {
        onStart: () => {
          throw error;
        },
        onDone: () => void log.push("done 3"),
      });
    await expect(pipeline.toArray()).rejects.toBe(error);
    expect(log.sort()).toEqual(["done 1", "done 2", "start 2"]);
  });

  it("a downstream onDone that throws does not run an upstream onDone twice, and the run waits for every onDone", async () => {
    const error = new Error("onDone failed");
    for (const source of [[], [1, 2, 3]]) {
      const counts = { first: 0, firstFinished: 0, second: 0 };
      const pipeline = pipe(source)
        .map((x) => x, {
          onDone: async () => {
            counts.first++;
            await sleep(5);
            counts.firstFinished++;
          },
        })
        .map((x) => x, {
          onDone: () => {
            counts.second++;
            throw error;
          },
        });
      await expect(pipeline.toArray()).rejects.toBe(error);
      expect(counts).toEqual({ first: 1, firstFinished: 1, second: 1 });
    }
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

  it("a caller abort from inside a synchronous f settles the run with the abort reason", async () => {
    for (const kind of ["map", "filter", "each", "flatMap"] as const) {
      const controller = new AbortController();
      const reason = new Error(`stop in ${kind}`);
      let done = 0;
      const f = (x: number): never => {
        if (x === 1) controller.abort(reason);
        return (kind === "flatMap" ? [x] : x) as never;
      };
      const base = pipe([0, 1, 2]);
      const options = { onDone: () => void done++ };
      const pipeline: Pipeline<unknown> =
        kind === "map" ? base.map(f, options) : kind === "filter" ? base.filter(f, options) : kind === "each" ? base.each(f, options) : base.flatMap(f, options);
      const outcome = await Promise.race([
        pipeline.toArray({ signal: controller.signal }).then(
          () => "resolved",
          (error: unknown) => error,
        ),
        sleep(1_000).then(() => "never settled"),
      ]);
      expect(outcome).toBe(reason);
      expect(done).toBe(1);
    }
  });

  it("after break the iterator is finished: next() gives done, never a buffered value", async () => {
    const source = async function* (): AsyncGenerator<number> {
      yield 1;
      await sleep(20);
      yield 2;
    };
    const iterator = pipe(source).flatMap((x) => [x, x * 10, x * 100]).iterate();
    for await (const x of { [Symbol.asyncIterator]: () => iterator }) {
      expect(x).toBe(1);
      break;
    }
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("break awaits a paused flatMap generator's finally before onDone and before the loop ends", async () => {
    const log: string[] = [];
    const pipeline = pipe([1]).flatMap(
      async function* () {
        try {
          for (let i = 0; i < 100; i++) yield i;
        } finally {
          log.push("finally");
          await sleep(5);
          log.push("closed");
        }
      },
      { maxsize: 1, onDone: () => void log.push("onDone") },
    );
    for await (const x of pipeline) {
      if (x === 3) {
        await sleep(5); // the generator is now paused at a yield: downstream is full
        break;
      }
    }
    log.push("loop ended");
    expect(log).toEqual(["finally", "closed", "onDone", "loop ended"]);
  });

  it("break awaits the source's return() when no next() is pending, also right after the source yielded to the event loop", async () => {
    // 1024 elements is where the source lets the event loop run (docs/design.md §13); check around it.
    for (const breakAt of [5, 1023, 2047]) {
      let pending = false;
      let returnFinished = false;
      let pendingAtBreak = true;
      const source: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => {
          let i = 0;
          return {
            next: () => {
              pending = true;
              const result = Promise.resolve({ done: false as const, value: i++ });
              void result.then(() => (pending = false));
              return result;
            },
            return: async () => {
              await sleep(5);
              returnFinished = true;
              return { done: true as const, value: undefined };
            },
          };
        },
      };
      for await (const x of pipe(source).map((x) => x)) {
        if (x === breakAt) {
          pendingAtBreak = pending;
          break;
        }
      }
      if (!pendingAtBreak) expect({ breakAt, returnFinished }).toEqual({ breakAt, returnFinished: true });
    }
  });
});
