import fc from "fast-check";
import { Piscina } from "piscina";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OptionsError, TimeoutError, concat, pipe } from "@sluice/dsl";
import { ThreadError, onThreads } from "@sluice/piscina";
import {
  COMPUTE,
  sleep,
  spinCounter,
  threadCounts,
  until,
  type ExitThread,
  type ParseOrThrow,
  type SlowLength,
  type SpinForever,
  type ReturnNull,
  type Square,
  type SumBytes,
  type ThrowNothing,
} from "./support.js";

const THREADS = 2;
let pool: Piscina;

// One busy call per thread: returns once every thread has loaded the worker module. Tests
// terminate threads only after this (Node 20 can abort the process when a thread is terminated
// while it loads an ES module through require(), which piscina tries first).
const everyThreadLoaded = () => Promise.all([pool.run({ value: 1, spin: 20 }), pool.run({ value: 2, spin: 20 })]);

beforeAll(async () => {
  pool = new Piscina({ filename: COMPUTE, minThreads: THREADS, maxThreads: THREADS });
  // Both threads loaded and idle, so the tests time thread work, not thread start-up.
  await everyThreadLoaded();
});

afterAll(async () => {
  // Threads replaced after the tests' terminations may still be loading.
  await everyThreadLoaded();
  await pool.destroy();
});

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("onThreads: results", () => {
  it("every element is computed on a thread exactly once, and ordered() restores source order", async () => {
    const completed = pool.completed;
    const squares = await pipe(range(200))
      .map((value) => ({ value }))
      .map(onThreads<Square>(pool), { workers: THREADS })
      .ordered();
    expect(squares).toEqual(range(200).map((x) => x * x));
    expect(pool.completed - completed).toBe(200);
  });

  it("calls the export named by `name`, awaiting an async worker function", async () => {
    const lengths = await pipe(["a", "bb", "ccc", "dddd"])
      .map((text) => ({ text }))
      .map(onThreads<SlowLength>(pool, { name: "slowLength" }), { workers: 2 })
      .ordered();
    expect(lengths).toEqual([1, 2, 3, 4]);
  });

  it("many runs share one pool, one after another and at once, without growing it", async () => {
    const started = threadCounts().started;
    const square = onThreads<Square>(pool);
    const squares = pipe(() => range(30))
      .map((value) => ({ value }))
      .map(square, { workers: 2 });
    for (let run = 0; run < 10; run++) {
      expect((await squares).sort((a, b) => a - b)).toEqual(range(30).map((x) => x * x));
    }
    const together = await Promise.all(range(5).map(() => squares.toArray()));
    for (const result of together) expect(result.sort((a, b) => a - b)).toEqual(range(30).map((x) => x * x));
    expect(pool.threads.length).toBe(THREADS);
    expect(threadCounts().started).toBe(started);
  });

  it("property: any workers and sizes give each element's result exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 4 }), async (workers, n, maxsize) => {
        let submitted = 0;
        const square = onThreads<Square>(pool);
        const results = await pipe(range(n)).map(
          (value, ctx) => {
            submitted++;
            return square({ value }, ctx);
          },
          { workers, maxsize },
        );
        expect(results.sort((a, b) => a - b)).toEqual(range(n).map((x) => x * x));
        expect(submitted).toBe(n);
      }),
      { numRuns: 25 },
    );
  });

  it("transfer moves each input's buffer instead of copying it; a result the worker moves arrives whole", async () => {
    const buffers = range(8).map((i) => new Uint8Array([i, i, i]).buffer);
    const sums = await pipe(buffers)
      .map(onThreads<SumBytes>(pool, { name: "sumBytes", transfer: (buffer) => [buffer] }), { workers: 2 })
      .map((out) => new Float64Array(out)[0]!)
      .toArray();
    expect(sums.sort((a, b) => a - b)).toEqual(range(8).map((i) => 3 * i));
    // Moved, not copied: the main thread's buffers are detached.
    for (const buffer of buffers) expect(buffer.byteLength).toBe(0);
  });
});

describe("onThreads: backpressure", () => {
  it("a slow consumer bounds what is submitted to the pool", async () => {
    let submitted = 0;
    let largestQueue = 0;
    const square = onThreads<Square>(pool);
    function* endless(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    const taken: number[] = [];
    for await (const x of pipe(endless).map(
      (value, ctx) => {
        submitted++;
        largestQueue = Math.max(largestQueue, pool.queueSize);
        return square({ value }, ctx);
      },
      { workers: 2, maxsize: 2 },
    )) {
      taken.push(x);
      await sleep(5);
      if (taken.length === 20) break;
    }
    // §4's bound for one stage: k + (workers + maxsize) + maxsize + 1 stage.
    expect(submitted).toBeLessThanOrEqual(20 + (2 + 2) + 2 + 1);
    expect(submitted).toBeGreaterThanOrEqual(20);
    // No more calls than threads were in flight, so nothing piled up in piscina's queue.
    expect(largestQueue).toBe(0);
  });
});

describe("onThreads: cancellation reaches the thread", () => {
  it("a timeout terminates the thread running the late call; the run fails with TimeoutError", async () => {
    const spin = spinCounter();
    const failure = pipe([{ counter: spin.counter }])
      .map(onThreads<SpinForever>(pool, { name: "spinForever" }), { timeout: 300 })
      .toArray();
    await expect(failure).rejects.toBeInstanceOf(TimeoutError);
    expect(spin.value()).toBeGreaterThan(0);
    // The run does not wait for a call abandoned by its timeout (docs/behaviour.md §7), but its thread stops.
    expect(await spin.stopsWithin(2_000)).toBe(true);
    // piscina replaced the terminated thread: the pool goes on working.
    expect(await pipe([{ value: 3 }]).map(onThreads<Square>(pool))).toEqual([9]);
  });

  it("the caller's abort terminates the running call, drops the queued ones, and the run rejects with the reason", async () => {
    const spin = spinCounter();
    const controller = new AbortController();
    const reason = new Error("stop");
    // Four calls in flight on two threads: two run, two wait in piscina's queue.
    const run = pipe(range(4))
      .map(() => ({ counter: spin.counter }))
      .map(onThreads<SpinForever>(pool, { name: "spinForever" }), { workers: 4 })
      .run({ signal: controller.signal });
    await until(() => spin.value() > 0 && pool.queueSize === 2);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(await spin.stopped()).toBe(true);
    expect(pool.queueSize).toBe(0);
    expect(await pipe([{ value: 4 }]).map(onThreads<Square>(pool))).toEqual([16]);
  });

  it("a failure elsewhere in the run terminates a thread still working for it", async () => {
    const spin = spinCounter();
    const boom = new Error("downstream failed");
    const spinning = pipe([0])
      .map(() => ({ counter: spin.counter }))
      .map(onThreads<SpinForever>(pool, { name: "spinForever" }));
    const failing = pipe([0]).map(async () => {
      await until(() => spin.value() > 0);
      throw boom;
    });
    await expect(concat(spinning, failing).toArray()).rejects.toBe(boom);
    expect(await spin.stopped()).toBe(true);
  });
});

describe("onThreads: failures on the thread", () => {
  it("a thrown error reaches the run as a ThreadError wrapping the copy, with the worker's message and stack", async () => {
    const error: unknown = await pipe(["ok", "!bad"])
      .map((text) => ({ text }))
      .map(onThreads<ParseOrThrow>(pool, { name: "parseOrThrow" }), { name: "parse" })
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    const thread = error as ThreadError;
    expect(thread.name).toBe("ThreadError");
    expect(thread.stage).toBe("parse");
    expect(thread.index).toEqual([1]);
    expect(thread.crashed).toBe(false);
    // The copy lost its class; the message keeps the worker's first line, class name included.
    expect(thread.message).toBe('parse: ParseError: bad record "!bad" (in a worker thread; element [1])');
    expect(thread.cause).toBeInstanceOf(Error);
    expect((thread.cause as Error).message).toBe('bad record "!bad"');
    expect(thread.stack).toMatch(/^ThreadError: parse: ParseError/);
    expect(thread.stack).toMatch(/at parseOrThrow \(.*workers\/compute\.mjs:\d+:\d+\)/);
  });

  it("a thrown non-Error is the cause, unchanged", async () => {
    const error = await pipe([{}])
      .map(onThreads(pool, { name: "throwString" }))
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).cause).toBe("plain string");
    expect((error as ThreadError).message).toBe('map#1: threw "plain string" (in a worker thread; element [0])');
  });

  it("a worker that throws null or undefined fails the run with a ThreadError saying so, not a null result", async () => {
    for (const [value, what] of [[-1, "null"], [0, "undefined"]] as const) {
      const error = await pipe([{ value: 2 }, { value }])
        .map(onThreads<ThrowNothing>(pool, { name: "throwNothing" }))
        .toArray()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ThreadError);
      expect((error as ThreadError).crashed).toBe(false);
      expect((error as ThreadError).message).toBe(`map#1: threw ${what} (in a worker thread; element [1])`);
      expect((error as ThreadError).cause).toBe(value < 0 ? null : undefined);
    }
    // A null result is still a result.
    expect(await pipe([1, 2]).map(onThreads<ReturnNull>(pool, { name: "returnNull" }))).toEqual([null, null]);
  });

  it("a thread that exits fails the run with a ThreadError marked crashed; the pool replaces the thread", async () => {
    const error = await pipe([{ code: 3 }])
      .map(onThreads<ExitThread>(pool, { name: "exitThread" }))
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).crashed).toBe(true);
    expect((error as ThreadError).message).toBe("map#1: the worker thread stopped while running a call (Error: worker exited with code: 3; element [0])");
    expect(await pipe([{ value: 5 }]).map(onThreads<Square>(pool))).toEqual([25]);
    await until(() => pool.threads.length === THREADS);
  });

  it("a pool whose bounded queue refuses a call fails the run with an OptionsError that says why", async () => {
    const small = new Piscina({ filename: COMPUTE, minThreads: 1, maxThreads: 1, maxQueue: 0 });
    try {
      await small.run({ value: 0 });
      const error = await pipe(range(5))
        .map((value) => ({ value, spin: 20 }))
        .map(onThreads<Square>(small), { workers: 3 })
        .toArray()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toMatch(/^map#2: the piscina pool refused a call \(No task queue available and all Workers are busy\): it takes 1 thread\(s\) x 1 task\(s\) plus 0 queued/);
    } finally {
      await small.destroy();
    }
  });
});

describe("onThreads: bad arguments", () => {
  it.each([
    [() => onThreads(undefined as never), "onThreads(): pool must be a piscina pool (received undefined)"],
    [() => onThreads({} as never), "onThreads(): pool must be a piscina pool (received an object (Object))"],
    [() => onThreads(pool, { name: "" }), 'onThreads(): options.name must be a non-empty string (received "")'],
    [() => onThreads(pool, { transfer: [] as never }), "onThreads(): options.transfer must be a function returning what to move (received an array)"],
    [() => onThreads(pool, { workers: 2 } as never), "onThreads(): options.workers is not an option (options are: name, transfer)"],
    [() => onThreads(pool, { transfer: 1 as never }), "onThreads(): options.transfer must be a function returning what to move (received 1)"],
  ])("%# throws an OptionsError naming what is wrong", (call, message) => {
    expect(call).toThrow(OptionsError);
    expect(call).toThrow(message);
  });

  it("gives the facts as fields too", () => {
    let error: unknown;
    try {
      onThreads(pool, { workers: 2 } as never);
    } catch (thrown) {
      error = thrown;
    }
    expect((error as OptionsError).method).toBe("onThreads");
    expect((error as OptionsError).issues).toEqual([
      {
        path: ["options", "workers"],
        expected: "absent (options are: name, transfer)",
        received: 2,
        message: "options.workers is not an option (options are: name, transfer)",
      },
    ]);
  });
});
