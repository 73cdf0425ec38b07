import { describe, expect, it } from "vitest";
import { ElementError, OptionsError, TimeoutError, concat, pipe } from "@sluice/dsl";
import { ThreadError, mapOnThreads } from "@sluice/piscina";
import {
  COMPUTE,
  sleep,
  type Dispatch,
  spinCounter,
  threadCounts,
  until,
  type ExitThread,
  type FailTimes,
  type LateThrow,
  type ParseOrThrow,
  type SpinForever,
  type Square,
  type ThrowNothing,
} from "./support.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("mapOnThreads: the stage owns its pool", () => {
  it("computes every element once on threads that exist only while the run does", async () => {
    const before = threadCounts();
    let liveDuringRun = 0;
    const squares = await pipe(range(100))
      .map((value) => ({ value }))
      .through(mapOnThreads<Square>(COMPUTE, { workers: 2 }))
      .map((x) => {
        liveDuringRun = Math.max(liveDuringRun, threadCounts().live - before.live);
        return x;
      })
      .ordered();
    expect(squares).toEqual(range(100).map((x) => x * x));
    expect(liveDuringRun).toBe(2);
    expect(threadCounts().started - before.started).toBe(2);
    expect(threadCounts().live).toBe(before.live);
  });

  it("each run creates and destroys a pool of its own", async () => {
    const before = threadCounts();
    const squares = pipe(() => range(10))
      .map((value) => ({ value }))
      .through(mapOnThreads<Square>(COMPUTE, { workers: 3 }));
    for (let run = 0; run < 3; run++) expect((await squares).length).toBe(10);
    expect(threadCounts().started - before.started).toBe(9);
    expect(threadCounts().live).toBe(before.live);
  });

  it("threads below workers keep the extra calls queued in the pool, never more threads", async () => {
    const before = threadCounts();
    let largest = 0;
    const squares = await pipe(range(40))
      .map((value) => ({ value, spin: 2 }))
      .through(mapOnThreads<Square>(COMPUTE, { workers: 4, threads: 1 }))
      .map((x) => {
        largest = Math.max(largest, threadCounts().live - before.live);
        return x;
      });
    expect(squares.sort((a, b) => a - b)).toEqual(range(40).map((x) => x * x));
    expect(largest).toBe(1);
    expect(threadCounts().live).toBe(before.live);
  });

  it("pool options reach the pool: `name` picks the export", async () => {
    const upper = await pipe(["a", "b"])
      .map((text) => ({ text }))
      .through(mapOnThreads<ParseOrThrow>(COMPUTE, { workers: 2, pool: { name: "parseOrThrow" } }))
      .ordered();
    expect(upper).toEqual(["A", "B"]);
  });
});

describe("mapOnThreads: failures leave no thread behind", () => {
  it("a thrown error fails the run with a ThreadError, and the pool is gone", async () => {
    const before = threadCounts();
    const error = await pipe(["a", "!b", "c"])
      .map((text) => ({ text }))
      .through(mapOnThreads<ParseOrThrow>(COMPUTE, { name: "parse", pool: { name: "parseOrThrow" } }))
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).message).toBe('parse: ParseError: bad record "!b" (in a worker thread; element [1])');
    expect(threadCounts().live).toBe(before.live);
  });

  it("a crashing thread fails the run with a clear error, and the pool is gone", async () => {
    const before = threadCounts();
    const error = await pipe([{ code: 7 }, { code: 0 }])
      .through(mapOnThreads<ExitThread>(COMPUTE, { workers: 2, pool: { name: "exitThread" } }))
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).crashed).toBe(true);
    expect((error as ThreadError).message).toMatch(/^map#1: the worker thread stopped while running a call \(Error: worker exited with code: [07]; element \[[01]\]\)$/);
    expect(threadCounts().live).toBe(before.live);
  });

  it("a timeout terminates the late call's thread; the run fails with TimeoutError and the pool is gone", async () => {
    const before = threadCounts();
    const spin = spinCounter();
    const failure = pipe([{ counter: spin.counter }])
      .through(mapOnThreads<SpinForever>(COMPUTE, { timeout: 500, pool: { name: "spinForever" } }))
      .toArray();
    await expect(failure).rejects.toBeInstanceOf(TimeoutError);
    expect(spin.value()).toBeGreaterThan(0);
    expect(await spin.stopped()).toBe(true);
    expect(threadCounts().live).toBe(before.live);
  });

  it("break out of for await terminates the running calls before the loop ends", async () => {
    const before = threadCounts();
    const spin = spinCounter();
    const tasks = pipe(range(3)).map((i): { value: number } | { counter: Int32Array } => (i === 0 ? { value: 1 } : { counter: spin.counter }));
    for await (const x of tasks.through(mapOnThreads<Dispatch>(COMPUTE, { workers: 3, pool: { name: "dispatch" } }))) {
      expect(x).toBe(1);
      break;
    }
    expect(await spin.stopped()).toBe(true);
    expect(threadCounts().live).toBe(before.live);
  });

  it("a run torn down while the stage's threads are still loading destroys the pool once they have", async () => {
    const before = threadCounts();
    const boom = new Error("failed at once");
    const threaded = pipe([{ value: 1 }]).through(mapOnThreads<Square>(COMPUTE, { workers: 2 }));
    const failing = pipe([0]).map(() => {
      throw boom;
    });
    await expect(concat(threaded, failing).toArray()).rejects.toBe(boom);
    expect(threadCounts().started - before.started).toBe(2);
    expect(threadCounts().live).toBe(before.live);
  });

  it("a thread that dies between calls fails the run at the next call", async () => {
    const before = threadCounts();
    async function* twoTasks(): AsyncGenerator<{ value: number }> {
      yield { value: 1 };
      // Time for the timer the first call left behind to kill its thread.
      await sleep(300);
      yield { value: 2 };
    }
    const error = await pipe(twoTasks)
      // atomics "disabled": an idle thread runs its event loop, so the timer fires between calls.
      .through(mapOnThreads<LateThrow>(COMPUTE, { pool: { name: "lateThrow", atomics: "disabled" } }))
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).crashed).toBe(true);
    expect((error as ThreadError).index).toEqual([1]);
    expect(((error as ThreadError).cause as Error).message).toBe("thrown between tasks");
    await until(() => threadCounts().live === before.live);
  });
});

describe("mapOnThreads: element outcomes (onError, retry)", () => {
  it("retry calls the thread again after a ThreadError, and onError: \"collect\" keeps the ThreadError of an element given up on", async () => {
    const before = threadCounts();
    const recovers = new Int32Array(new SharedArrayBuffer(4));
    const givesUp = new Int32Array(new SharedArrayBuffer(4));
    const { results, errors } = await pipe([
      { counter: recovers, failures: 2, value: 3 },
      { counter: givesUp, failures: 10, value: 4 },
    ])
      .through(mapOnThreads<FailTimes>(COMPUTE, { workers: 2, retry: { retries: 2, minDelay: 1 }, onError: "collect", pool: { name: "failTimes" } }))
      .toResult();
    expect(results).toEqual([9]);
    expect(Atomics.load(recovers, 0)).toBe(3);
    expect(Atomics.load(givesUp, 0)).toBe(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ElementError);
    expect(errors[0]!.attempts).toBe(3);
    expect(errors[0]!.error).toBeInstanceOf(ThreadError);
    expect((errors[0]!.error as ThreadError).message).toBe("map#1: Error: attempt 3 failed (in a worker thread; element [1])");
    expect(threadCounts().live).toBe(before.live);
  });
});

describe("mapOnThreads: a worker that throws null", () => {
  it("is an error of the call: collected under onError: \"collect\" as a ThreadError, the other elements squared", async () => {
    const before = threadCounts();
    const { results, errors } = await pipe([{ value: 3 }, { value: -1 }, { value: 4 }])
      .through(mapOnThreads<ThrowNothing>(COMPUTE, { workers: 2, onError: "collect", pool: { name: "throwNothing" } }))
      .toResult();
    expect(results.sort((a, b) => a - b)).toEqual([9, 16]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.index).toEqual([1]);
    expect((errors[0]!.error as ThreadError).message).toBe("map#1: threw null (in a worker thread; element [1])");
    expect((errors[0]!.error as ThreadError).cause).toBeNull();
    expect(threadCounts().live).toBe(before.live);
  });
});

describe("mapOnThreads: bad arguments", () => {
  it.each([
    [() => mapOnThreads(""), 'mapOnThreads(): filename must be the worker module\'s path or URL (received "")'],
    [() => mapOnThreads(COMPUTE, { workers: 2, threads: 3 }), "mapOnThreads(): options.threads must be an integer from 1 to workers (2): more threads than calls in flight would stay idle (received 3)"],
    [() => mapOnThreads(COMPUTE, { threads: 0 }), "mapOnThreads(): options.threads must be an integer from 1 to workers (1)"],
    [() => mapOnThreads(COMPUTE, { onStart: () => ({}) } as never), "mapOnThreads(): options.onStart is not an option: the stage's hooks create and destroy its pool"],
    [() => mapOnThreads(COMPUTE, { pool: 2 } as never), "mapOnThreads(): options.pool must be an object of piscina options (received 2)"],
    [() => mapOnThreads(COMPUTE, { workers: 0 }), "mapOnThreads(): options.workers must be an integer >= 1 (received 0)"],
    [() => mapOnThreads(COMPUTE, null as never), "mapOnThreads(): options must be an object (received null)"],
    [
      () => mapOnThreads(COMPUTE, { thread: 2 } as never),
      "mapOnThreads(): options.thread is not an option (options are: workers, maxsize, timeout, onTimeout, name, rateLimit, onError, isPushback, cost, retry, key, fallback, threads, pool, transfer)",
    ],
  ])("%# throws an OptionsError naming what is wrong", (call, message) => {
    expect(call).toThrow(OptionsError);
    expect(call).toThrow(message);
  });

  it("checks map's options as map() does, under its own name, with the facts as fields", () => {
    let error: unknown;
    try {
      mapOnThreads(COMPUTE, { workers: 2, retry: { retries: 1, factor: 0 } });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).method).toBe("mapOnThreads");
    expect((error as OptionsError).issues).toEqual([
      {
        path: ["options", "retry", "factor"],
        expected: "a number from 1 to 1000",
        received: 0,
        message: "options.retry.factor must be a number from 1 to 1000 (received 0)",
      },
    ]);
  });

  it("its own options' errors carry the same fields", () => {
    let error: unknown;
    try {
      mapOnThreads(COMPUTE, { workers: 2, threads: 3 });
    } catch (thrown) {
      error = thrown;
    }
    expect((error as OptionsError).method).toBe("mapOnThreads");
    expect((error as OptionsError).issues[0]).toMatchObject({ path: ["options", "threads"], expected: "an integer from 1 to workers (2)", received: 3 });
  });
});
