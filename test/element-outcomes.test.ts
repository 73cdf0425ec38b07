/**
 * Element outcomes (docs/behaviour.md §10): `onError`, `retry`, `ElementError(s)`,
 * `toResult()` and `parse(schema)`.
 */
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  ElementError,
  ElementErrors,
  OptionsError,
  TimeoutError,
  ValidationError,
  pipe,
  rateLimiter,
  type ErrorPolicy,
  type HookInfo,
  type Pipeline,
  type StageOptions,
  type StandardResult,
  type StandardSchema,
} from "@sluice/dsl";
import { deferred, range, sleep, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();
afterEach(() => {
  vi.useRealTimers();
  expect(unhandled).toEqual([]);
});

type FailureKind = "throw" | "reject" | "timeout";
const kinds: readonly FailureKind[] = ["throw", "reject", "timeout"];

/** `f` for a map stage that fails (in the given way) on multiples of 3 and doubles the rest. */
function failingOnThirds(kind: FailureKind, errors: unknown[]) {
  return (x: number, ctx: { signal: AbortSignal }): number | Promise<number> => {
    if (x % 3 !== 0) return kind === "throw" ? x * 2 : sleep(1).then(() => x * 2);
    if (kind === "throw") {
      const error = new Error(`bad ${x}`);
      errors.push(error);
      throw error;
    }
    if (kind === "reject") {
      const error = new Error(`bad ${x}`);
      errors.push(error);
      return sleep(1).then(() => Promise.reject(error));
    }
    // A call that never ends on its own: the stage's timeout gives up on it.
    return new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
  };
}

/** Builds `flatMap -> map(f) -> ordered()` over 0..n-1 (each x emits 2x and 2x+1). */
function chain(kind: FailureKind, onError: ErrorPolicy, errors: unknown[], n = 10): Pipeline<number> {
  return pipe(range(n))
    .flatMap((x) => [2 * x, 2 * x + 1])
    .map(failingOnThirds(kind, errors), { workers: 3, onError, ...(kind === "timeout" ? { timeout: 15 } : {}) })
    .ordered();
}

const survivors = (n: number) => [...range(2 * n)].filter((x) => x % 3 !== 0).map((x) => x * 2);
const failedInputs = (n: number) => [...range(2 * n)].filter((x) => x % 3 === 0);

describe("onError, for each kind of failure of f, with flatMap upstream and ordered() downstream", () => {
  for (const kind of kinds) {
    describe(kind, () => {
      it('"fail" (the default) fails the run with the first error, as the same object', async () => {
        const errors: unknown[] = [];
        const error = await chain(kind, "fail", errors).toArray().catch((e: unknown) => e);
        if (kind === "timeout") expect(error).toBeInstanceOf(TimeoutError);
        else expect(errors).toContain(error);
      });

      it('"skip" drops the failed elements; ordered() moves past them', async () => {
        expect(await chain(kind, "skip", [])).toEqual(survivors(10));
      });

      it('"collect" goes on, then rejects with ElementErrors holding the failures and the results', async () => {
        const errors: unknown[] = [];
        const error = await chain(kind, "collect", errors).toArray().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ElementErrors);
        expect(error).toBeInstanceOf(AggregateError);
        const collected = error as ElementErrors<number>;
        expect(collected.name).toBe("ElementErrors");
        expect(collected.results).toEqual(survivors(10));
        expect(collected.errors.map((failure) => failure.value).sort((a, b) => Number(a) - Number(b))).toEqual(failedInputs(10));
        for (const failure of collected.errors) {
          expect(failure).toBeInstanceOf(ElementError);
          expect(failure.name).toBe("ElementError");
          expect(failure.stage).toBe("map#2");
          expect(failure.attempts).toBe(1);
          const x = failure.value as number;
          expect(failure.index).toEqual([Math.floor(x / 2), x % 2]);
          if (kind === "timeout") expect(failure.error).toBeInstanceOf(TimeoutError);
          else expect(errors).toContain(failure.error);
          expect(failure.cause).toBe(failure.error);
        }
      });

      it("a handler gets each failure, then the element is dropped", async () => {
        const seen: ElementError[] = [];
        const handler = async (failure: ElementError) => {
          await sleep(1);
          seen.push(failure);
        };
        expect(await chain(kind, handler, [])).toEqual(survivors(10));
        expect(seen.map((failure) => failure.value).sort((a, b) => Number(a) - Number(b))).toEqual(failedInputs(10));
      });
    });
  }

  it("an explicit onTimeout: \"skip\" keeps its meaning: no handler call, no retry", async () => {
    const handler = vi.fn();
    const calls = vi.fn();
    const result = await pipe([1, 2, 3]).map(
      (x, ctx) => {
        calls(x);
        return x === 2 ? new Promise<number>((_r, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))) : x;
      },
      { timeout: 10, onTimeout: "skip", onError: handler, retry: { retries: 3, minDelay: 0 } },
    );
    expect(result.sort()).toEqual([1, 3]);
    expect(handler).not.toHaveBeenCalled();
    expect(calls.mock.calls.filter(([x]) => x === 2)).toHaveLength(1);
  });

  it("a flatMap whose iteration fails after emitting keeps its children under \"skip\" and is not retried", async () => {
    let calls = 0;
    const result = await pipe([1, 2])
      .flatMap(
        async function* (x) {
          calls++;
          yield x * 10;
          if (x === 1) throw new Error("half way");
          yield x * 10 + 1;
        },
        { onError: "skip", retry: { retries: 2, minDelay: 0 } },
      )
      .ordered();
    expect(result).toEqual([10, 20, 21]);
    expect(calls).toBe(2);
  });

  it("a flatMap call that failed before emitting is retried", async () => {
    let attempts = 0;
    const result = await pipe([1])
      .flatMap(
        async function* (x) {
          attempts++;
          if (attempts === 1) throw new Error("not yet");
          yield x;
          yield x + 1;
        },
        { retry: { retries: 1, minDelay: 0 } },
      )
      .ordered();
    expect(result).toEqual([1, 2]);
    expect(attempts).toBe(2);
  });

  it("failures of hooks, the source and the consumer still fail the run", async () => {
    const boom = new Error("onStart");
    await expect(pipe([1]).map((x) => x, { onError: "skip", onStart: () => Promise.reject(boom) })).rejects.toBe(boom);
    const sourceError = new Error("source");
    async function* source() {
      yield 1;
      throw sourceError;
    }
    await expect(pipe(source()).map((x) => x, { onError: "collect" }).toResult()).rejects.toBe(sourceError);
  });
});

describe('"collect" and the ways of consuming', () => {
  const failOdd = (x: number) => {
    if (x % 2 === 1) throw new Error(`odd ${x}`);
    return x;
  };

  it("toResult() resolves with the results and the errors, in arrival order", async () => {
    const { results, errors } = await pipe([0, 1, 2, 3, 4]).map(failOdd, { onError: "collect" }).toResult();
    expect(results).toEqual([0, 2, 4]);
    expect(errors.map((failure) => failure.value)).toEqual([1, 3]);
    expect((errors[0]!.error as Error).message).toBe("odd 1");
  });

  it("toResult() with no failures has an empty errors list, and rejects for a run failure", async () => {
    expect(await pipe([1, 2]).map((x) => x, { onError: "collect" }).toResult()).toEqual({ results: [1, 2], errors: [] });
    const boom = new Error("fail");
    await expect(
      pipe([1, 2])
        .map(failOdd, { onError: "collect" })
        .map(() => {
          throw boom;
        })
        .toResult(),
    ).rejects.toBe(boom);
  });

  it("run() rejects with ElementErrors (no results)", async () => {
    const error = await pipe([0, 1, 2, 3]).each(failOdd, { onError: "collect" }).run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ElementErrors);
    expect((error as ElementErrors).errors).toHaveLength(2);
    expect((error as ElementErrors).results).toEqual([]);
    expect((error as Error).message).toMatch(/^2 elements failed \(first: each#1: element \[1\] failed: Error: odd 1\)$/);
  });

  it("for await gets every element, then throws ElementErrors", async () => {
    const seen: number[] = [];
    let thrown: unknown;
    try {
      for await (const x of pipe([0, 1, 2, 3, 4]).map(failOdd, { onError: "collect" }).ordered()) seen.push(x);
    } catch (error) {
      thrown = error;
    }
    expect(seen).toEqual([0, 2, 4]);
    expect(thrown).toBeInstanceOf(ElementErrors);
    expect((thrown as ElementErrors).errors.map((failure) => failure.value)).toEqual([1, 3]);
  });

  it("leaving a for await early does not throw the collected failures", async () => {
    for await (const x of pipe([1, 2, 3, 4]).map(failOdd, { onError: "collect" })) {
      expect(x).toBe(2);
      break;
    }
  });

  it("one failure more than maxErrors fails the run at once with ElementErrors", async () => {
    const calls = vi.fn();
    const error = await pipe(range(1_000))
      .map(
        (x) => {
          calls();
          throw new Error(String(x));
        },
        { onError: "collect" },
      )
      .toArray({ maxErrors: 5 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ElementErrors);
    expect((error as ElementErrors).errors).toHaveLength(6);
    expect((error as Error).message).toBe("more than 5 element failures were collected (maxErrors)");
    expect(calls.mock.calls.length).toBeLessThan(100);
  });

  it("maxErrors: 0 fails the run on the first collected failure; the option is validated", async () => {
    await expect(pipe([1]).map(failOdd, { onError: "collect" }).toResult({ maxErrors: 0 })).rejects.toBeInstanceOf(ElementErrors);
    await expect(pipe([1]).toArray({ maxErrors: -1 })).rejects.toThrow(new OptionsError("toArray(): options.maxErrors must be an integer >= 0 (received -1)"));
  });

  it("failures of several stages are collected together", async () => {
    const { results, errors } = await pipe(range(6))
      .map((x) => {
        if (x === 1) throw new Error("first stage");
        return x;
      }, { onError: "collect" })
      .map((x) => {
        if (x === 4) throw new Error("second stage");
        return x;
      }, { onError: "collect", name: "second" })
      .ordered()
      .toResult();
    expect(results).toEqual([0, 2, 3, 5]);
    expect(errors.map((failure) => [failure.stage, failure.value])).toEqual(
      expect.arrayContaining([
        ["map#1", 1],
        ["second", 4],
      ]),
    );
  });
});

describe("an onError handler", () => {
  it("that throws fails the run with its error", async () => {
    const boom = new Error("handler");
    await expect(
      pipe([1, 2]).map(
        () => {
          throw new Error("f");
        },
        {
          onError: () => {
            throw boom;
          },
        },
      ),
    ).rejects.toBe(boom);
  });

  it("that rejects fails the run with its reason, and onDone still runs once", async () => {
    const boom = new Error("handler");
    const onDone = vi.fn();
    await expect(
      pipe([1, 2, 3]).map(() => Promise.reject(new Error("f")), { onError: () => Promise.reject(boom), onDone }),
    ).rejects.toBe(boom);
    expect(onDone).toHaveBeenCalledTimes(1);
  });

  it("holds the element's slot while it runs: workers bounds calls plus handlers", async () => {
    let busy = 0;
    let most = 0;
    const enter = () => {
      busy++;
      most = Math.max(most, busy);
    };
    await pipe(range(20)).map(
      async (x) => {
        enter();
        await sleep(1);
        busy--;
        if (x % 2 === 0) throw new Error("even");
        return x;
      },
      {
        workers: 3,
        onError: async () => {
          enter();
          await sleep(2);
          busy--;
        },
      },
    );
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });
});

describe("outcome handlers that never settle", () => {
  type Handler = "shouldRetry" | "delay" | "onError";
  const handlers: readonly Handler[] = ["shouldRetry", "delay", "onError"];

  /** Stage options whose `handler` records the info it gets and returns a promise that never settles. */
  function hanging(handler: Handler, infos: HookInfo[]): StageOptions<{}> {
    const hang = (...args: unknown[]) => {
      infos.push(args.at(-1) as HookInfo);
      return new Promise<never>(() => undefined);
    };
    if (handler === "onError") return { onError: hang };
    return { retry: { retries: 1, minDelay: 0, [handler]: hang } };
  }

  for (const handler of handlers) {
    it(`${handler} gets the stage and the run's signal, and an abort settles the run without waiting for it`, async () => {
      const controller = new AbortController();
      const reason = new Error("stop");
      const infos: HookInfo[] = [];
      const onDone = vi.fn();
      let outcome: unknown = "pending";
      pipe([1, 2])
        .map(
          (x) => {
            throw new Error(`bad ${x}`);
          },
          { name: "fetch", workers: 2, onDone, ...hanging(handler, infos) },
        )
        .toArray({ signal: controller.signal })
        .then(
          () => (outcome = "resolved"),
          (error: unknown) => (outcome = error),
        );
      await until(() => infos.length === 2, "both handlers to be called");
      expect(infos[0]!.stage).toBe("fetch");
      expect(infos[0]!.signal.aborted).toBe(false);
      controller.abort(reason);
      await until(() => outcome !== "pending", "the run to settle");
      expect(outcome).toBe(reason);
      expect(onDone).toHaveBeenCalledTimes(1);
      expect(infos[1]!.signal.aborted).toBe(true);
      expect(infos[1]!.signal.reason).toBe(reason);
    });

    it(`${handler}: a run that fails elsewhere settles without waiting for it`, async () => {
      const boom = new Error("downstream");
      const infos: HookInfo[] = [];
      let outcome: unknown = "pending";
      pipe([1, 2])
        .map(
          async (x) => {
            if (x === 1) throw new Error("bad 1");
            await until(() => infos.length === 1, "the handler to be called");
            return x;
          },
          { workers: 2, ...hanging(handler, infos) },
        )
        .map(() => {
          throw boom;
        })
        .toArray()
        .then(
          () => (outcome = "resolved"),
          (error: unknown) => (outcome = error),
        );
      await until(() => outcome !== "pending", "the run to settle");
      expect(outcome).toBe(boom);
      expect(infos[0]!.signal.aborted).toBe(true);
    });
  }

  it("a handler that settles after the run was torn down changes nothing", async () => {
    const late = deferred<void>();
    const controller = new AbortController();
    let called = false;
    const result = pipe([1]).map(
      () => {
        throw new Error("bad");
      },
      {
        onError: () => {
          called = true;
          return late.promise;
        },
      },
    ).toResult({ signal: controller.signal });
    await until(() => called, "the handler to be called");
    controller.abort(new Error("stop"));
    await expect(result).rejects.toThrow("stop");
    late.reject(new Error("late"));
    await sleep(1);
  });
});

describe("retry", () => {
  it("tries again until an attempt succeeds; ctx.attempt counts from 1", async () => {
    vi.useFakeTimers();
    const attempts: number[] = [];
    const done = pipe(["a"]).map(
      (x, ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
        return `${x}${ctx.attempt}`;
      },
      { retry: { retries: 5, minDelay: 100, jitter: "none" } },
    );
    const result = done.toArray();
    await vi.advanceTimersByTimeAsync(0);
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(99);
    expect(attempts).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toEqual([1, 2]);
    // The second back-off is twice the first (factor 2).
    await vi.advanceTimersByTimeAsync(199);
    expect(attempts).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual(["a3"]);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it("gives up after `retries` more attempts; the ElementError counts them", async () => {
    vi.useFakeTimers();
    const calls = vi.fn();
    const last = new Error("last");
    const result = pipe([7])
      .map(
        (_x, ctx) => {
          calls(ctx.attempt);
          throw ctx.attempt === 3 ? last : new Error("early");
        },
        { retry: 2, onError: "collect" },
      )
      .toResult();
    await vi.runAllTimersAsync();
    const { errors } = await result;
    expect(calls.mock.calls).toEqual([[1], [2], [3]]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.attempts).toBe(3);
    expect(errors[0]!.error).toBe(last);
    expect(errors[0]!.message).toBe("map#1: element [0] failed after 3 attempts: Error: last");
  });

  it("without onError, the run fails with the last attempt's error", async () => {
    const last = new Error("attempt 2");
    await expect(
      pipe([1]).map(
        (_x, ctx) => {
          throw ctx.attempt === 2 ? last : new Error("attempt 1");
        },
        { retry: { retries: 1, minDelay: 0 } },
      ),
    ).rejects.toBe(last);
  });

  it("backs off exponentially up to maxDelay, with full jitter inside [0, back-off)", async () => {
    vi.useFakeTimers();
    const random = vi.spyOn(Math, "random").mockReturnValue(0.5);
    const starts: number[] = [];
    const result = pipe([1])
      .map(
        () => {
          starts.push(Date.now());
          throw new Error("always");
        },
        { retry: { retries: 4, minDelay: 100, factor: 3, maxDelay: 1_000 }, onError: "skip" },
      )
      .toArray();
    await vi.runAllTimersAsync();
    expect(await result).toEqual([]);
    const waits = starts.slice(1).map((start, i) => start - starts[i]!);
    // Back-offs 100, 300, 900, 1000 (capped), each times the jitter factor 0.5.
    expect(waits).toEqual([50, 150, 450, 500]);
    random.mockRestore();
  });

  it("shouldRetry may refuse (sync or async), with the error and the failed attempt", async () => {
    const seen: Array<[unknown, number]> = [];
    const fatal = new Error("fatal");
    for (const asyncAnswer of [false, true]) {
      seen.length = 0;
      const { errors } = await pipe([1])
        .map(
          (_x, ctx) => {
            throw ctx.attempt === 1 ? new Error("flaky") : fatal;
          },
          {
            retry: {
              retries: 5,
              minDelay: 0,
              shouldRetry: (error, attempt) => {
                seen.push([error, attempt]);
                const answer = error !== fatal;
                return asyncAnswer ? Promise.resolve(answer) : answer;
              },
            },
            onError: "collect",
          },
        )
        .toResult();
      expect(seen.map(([, attempt]) => attempt)).toEqual([1, 2]);
      expect(seen[1]![0]).toBe(fatal);
      expect(errors[0]!.attempts).toBe(2);
    }
  });

  it("delay names the wait (a Retry-After); undefined falls back to the back-off", async () => {
    vi.useFakeTimers();
    const starts: number[] = [];
    const result = pipe([1]).map(
      (x, ctx) => {
        starts.push(Date.now());
        if (ctx.attempt < 3) throw new Error("busy");
        return x;
      },
      {
        retry: { retries: 3, minDelay: 10, jitter: "none", delay: (_error, attempt) => (attempt === 1 ? 5_000 : undefined) },
      },
    ).toArray();
    await vi.runAllTimersAsync();
    expect(await result).toEqual([1]);
    expect(starts.slice(1).map((start, i) => start - starts[i]!)).toEqual([5_000, 20]);
  });

  it("a delay that returns a bad wait fails the run with a TypeError naming the stage", async () => {
    await expect(
      pipe([1]).map(
        () => {
          throw new Error("x");
        },
        { name: "fetch", retry: { retries: 1, delay: () => -1 } },
      ),
    ).rejects.toThrow(new TypeError("fetch: retry.delay must return a number of ms from 0 to 2147483647, or undefined for the back-off (received -1)"));
  });

  it("a shouldRetry or delay that throws fails the run with its error", async () => {
    const boom = new Error("decision");
    const fail = () => {
      throw new Error("f");
    };
    const thrower = () => {
      throw boom;
    };
    await expect(pipe([1]).map(fail, { retry: { retries: 1, shouldRetry: thrower } })).rejects.toBe(boom);
    await expect(pipe([1]).map(fail, { retry: { retries: 1, delay: thrower } })).rejects.toBe(boom);
  });

  it("maxRetryTime stops retrying once the next attempt would start too late", async () => {
    vi.useFakeTimers();
    const attempts: number[] = [];
    const result = pipe([1])
      .map(
        (_x, ctx) => {
          attempts.push(ctx.attempt);
          throw new Error("down");
        },
        { retry: { retries: 10, minDelay: 100, jitter: "none", maxRetryTime: 650 }, onError: "collect" },
      )
      .toResult();
    await vi.runAllTimersAsync();
    const { errors } = await result;
    // Attempts start at 0, 100, 300 and 700 ms would be past 650: three attempts.
    expect(attempts).toEqual([1, 2, 3]);
    expect(errors[0]!.attempts).toBe(3);
  });

  it("each attempt has its own timeout and a fresh ctx.signal", async () => {
    const signals: AbortSignal[] = [];
    const result = await pipe([1]).map(
      (x, ctx) => {
        signals.push(ctx.signal);
        if (ctx.attempt === 1) return new Promise<number>(() => undefined); // hangs: the timeout ends it
        return sleep(1).then(() => x);
      },
      { timeout: 20, retry: { retries: 1, minDelay: 0 } },
    );
    expect(result).toEqual([1]);
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toBeInstanceOf(TimeoutError);
    expect(signals[1]!.aborted).toBe(false);
  });

  it("OptionsErrors and ValidationErrors are never retried", async () => {
    for (const error of [new OptionsError("bad"), new ValidationError([{ message: "no" }], "map#1", [0], 1)]) {
      const calls = vi.fn();
      await expect(
        pipe([1]).map(
          () => {
            calls();
            throw error;
          },
          { retry: { retries: 3, minDelay: 0 } },
        ),
      ).rejects.toBe(error);
      expect(calls).toHaveBeenCalledTimes(1);
    }
  });

  it("keeps the element's slot during its back-off: workers bounds calls plus back-offs", async () => {
    vi.useFakeTimers();
    const started: Array<[number, number]> = [];
    const result = pipe([0, 1, 2]).map(
      (x, ctx) => {
        started.push([x, ctx.attempt]);
        if (x === 0 && ctx.attempt === 1) throw new Error("retry me");
        return x;
      },
      { workers: 1, retry: { retries: 1, minDelay: 1_000, jitter: "none" } },
    ).toArray();
    await vi.advanceTimersByTimeAsync(999);
    // Element 0 waits for its second attempt in the only slot: nothing else starts.
    expect(started).toEqual([[0, 1]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual([0, 1, 2]);
    expect(started).toEqual([
      [0, 1],
      [0, 2],
      [1, 1],
      [2, 1],
    ]);
  });

  it("an attempt is a call start for the stage's rate limit", async () => {
    // Real timers: the limiter reads performance.now(), which fake timers do not move.
    const starts: number[] = [];
    const before = performance.now();
    const result = pipe([1]).map(
      (x, ctx) => {
        starts.push(performance.now());
        if (ctx.attempt === 1) throw new Error("again");
        return x;
      },
      { rateLimit: rateLimiter({ limit: 1, interval: 40 }), retry: { retries: 1, minDelay: 0 } },
    ).toArray();
    expect(await result).toEqual([1]);
    expect(starts).toHaveLength(2);
    // The retry waited for the first start's window to pass. Measured from before the run, not
    // from the first call's own stamp, which a busy machine may take late: a lower bound that
    // load can only make easier to meet.
    expect(starts[1]! - before).toBeGreaterThanOrEqual(39);
  });

  it("teardown cancels a waiting back-off at once: the run settles, no timer is left, onDone runs once", async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const onDone = vi.fn();
    const calls = vi.fn();
    const result = pipe([1, 2])
      .map(
        () => {
          calls();
          throw new Error("down");
        },
        { workers: 2, retry: { retries: 3, minDelay: 60_000 }, onDone },
      )
      .toArray({ signal: controller.signal });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(2);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(onDone).toHaveBeenCalledTimes(1);
    expect(calls).toHaveBeenCalledTimes(2);
  });

  it("teardown while waiting for a rate-limit turn after a back-off cancels that wait too", async () => {
    const limiter = rateLimiter({ limit: 1, interval: 10_000 });
    const pipeline = pipe([1]).map(
      () => {
        throw new Error("down");
      },
      { rateLimit: limiter, retry: { retries: 1, minDelay: 0 } },
    );
    const controller = new AbortController();
    const result = pipeline.toArray({ signal: controller.signal });
    await sleep(10);
    const started = Date.now();
    controller.abort(new Error("stop"));
    await expect(result).rejects.toThrow("stop");
    // Settled at once, not after the limiter's 10 s window.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("a break while elements back off settles the loop at once", async () => {
    vi.useFakeTimers();
    const iterator = pipe([1, 2, 3])
      .map(
        (x) => {
          if (x !== 1) throw new Error("later");
          return x;
        },
        { workers: 3, retry: { retries: 1, minDelay: 60_000 } },
      )
      [Symbol.asyncIterator]();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await iterator.return!();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a shouldRetry or delay that tears the run down arms no back-off and starts no new attempt", async () => {
    vi.useFakeTimers();
    for (const decision of ["shouldRetry", "delay"] as const) {
      const controller = new AbortController();
      const reason = new Error(`stopped by ${decision}`);
      const attempts: number[] = [];
      const decide = () => {
        controller.abort(reason);
        return decision === "shouldRetry" ? true : 60_000;
      };
      const onDone = vi.fn();
      let outcome: unknown = "pending";
      pipe([1])
        .map(
          (_x, ctx) => {
            attempts.push(ctx.attempt);
            throw new Error("down");
          },
          { retry: { retries: 3, minDelay: 60_000, [decision]: decide }, onDone },
        )
        .toArray({ signal: controller.signal })
        .then(
          () => (outcome = "resolved"),
          (error: unknown) => (outcome = error),
        );
      await vi.advanceTimersByTimeAsync(0);
      expect(outcome).toBe(reason);
      expect(vi.getTimerCount()).toBe(0);
      expect(onDone).toHaveBeenCalledTimes(1);
      await vi.runAllTimersAsync();
      expect(attempts).toEqual([1]);
    }
  });

  it("a back-off wakes on time even when a late call of a timed-out attempt settles", async () => {
    const late = deferred<number>();
    const result = await pipe([1]).map(
      (x, ctx) => (ctx.attempt === 1 ? late.promise : x + 1),
      { timeout: 10, retry: { retries: 1, minDelay: 0 } },
    );
    late.resolve(100);
    expect(result).toEqual([2]);
  });
});

describe("parse(schema)", () => {
  const User = z.object({ id: z.number(), name: z.string() });

  it("emits each element's validated output", async () => {
    const users = await pipe<unknown>([{ id: 1, name: "a", extra: true }, { id: 2, name: "b" }]).parse(User).ordered();
    expect(users).toEqual([
      { id: 1, name: "a" },
      { id: 2, name: "b" },
    ]);
  });

  it("applies transforms (the schema's output type)", async () => {
    expect(await pipe(["1", "2"]).parse(z.coerce.number()).ordered()).toEqual([1, 2]);
  });

  it("fails the run with a ValidationError by default", async () => {
    const error = await pipe<unknown>([{ id: 1, name: "a" }, { id: "x", name: "b" }])
      .parse(User)
      .toArray()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const invalid = error as ValidationError;
    expect(invalid.name).toBe("ValidationError");
    expect(invalid.stage).toBe("parse#1");
    expect(invalid.index).toEqual([1]);
    expect(invalid.value).toEqual({ id: "x", name: "b" });
    expect(invalid.issues[0]!.path).toEqual(["id"]);
    expect(invalid.message).toMatch(/^parse#1: element \[1\] is invalid at id: /);
  });

  it("hands invalid elements to onError, and is never retried", async () => {
    const validate = vi.spyOn(User["~standard"], "validate");
    const { results, errors } = await pipe<unknown>([{ id: 1, name: "a" }, null, { id: 3, name: "c" }])
      .parse(User, { onError: "collect", retry: 3 })
      .ordered()
      .toResult();
    expect(results).toEqual([
      { id: 1, name: "a" },
      { id: 3, name: "c" },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBeInstanceOf(ValidationError);
    expect(errors[0]!.attempts).toBe(1);
    expect(validate).toHaveBeenCalledTimes(3);
    validate.mockRestore();
  });

  it("works with an async schema", async () => {
    const Even = z.number().refine(async (x) => {
      await sleep(1);
      return x % 2 === 0;
    });
    expect(await pipe([1, 2, 3, 4]).parse(Even, { workers: 4, onError: "skip" }).ordered()).toEqual([2, 4]);
    await expect(pipe([1]).parse(Even)).rejects.toBeInstanceOf(ValidationError);
  });

  it("awaits a validator whose promise comes from another realm (a vm context)", async () => {
    // What an iframe's or a vm context's Promise looks like here: a thenable, not an instanceof Promise.
    const Doubled: StandardSchema<unknown, number> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          runInNewContext("Promise.resolve(result)", {
            result: typeof value === "number" ? { value: value * 2 } : { issues: [{ message: "not a number" }] },
          }) as Promise<StandardResult<number>>,
      },
    };
    expect(runInNewContext("Promise.resolve()") instanceof Promise).toBe(false);
    const { results, errors } = await pipe<unknown>([1, "x", 3]).parse(Doubled, { onError: "collect" }).ordered().toResult();
    expect(results).toEqual([2, 6]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBeInstanceOf(ValidationError);
    expect(errors[0]!.value).toBe("x");
  });

  it("rejects a non-schema with an OptionsError, and validates its options like any stage", () => {
    expect(() => pipe([1]).parse({} as never)).toThrow(OptionsError);
    expect(() => pipe([1]).parse({} as never)).toThrow(/^parse\(\): schema must be a Standard Schema v1 validator/);
    expect(() => pipe([1]).parse(User, { workers: 0 })).toThrow(new OptionsError("parse(): options.workers must be an integer >= 1 (received 0)"));
  });
});
