/**
 * Adaptive concurrency (docs/behaviour.md §16): `workers: "auto"` finds a service's knee from
 * the latency of its own calls and from push-back, follows the knee when it moves, and a
 * `concurrencyLimiter()` is one limit for every stage, pipeline and run that shares it.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConcurrencyLimiter, OptionsError, concurrencyLimiter, isPushbackError, pipe, resolveStageOptions, TimeoutError, type RunStats } from "@sluice/dsl";
import { SimulatedService } from "./helpers/simulated-service.js";
import { range, sleep } from "./helpers/time.js";

afterEach(() => {
  vi.useRealTimers();
});

/** What one run against a {@link SimulatedService} showed. */
interface Outcome {
  /** Elements per second of (simulated) time. */
  readonly throughput: number;
  /** The stage's limit averaged over time (sampled every 10 ms). */
  readonly meanLimit: number;
  /** The share of calls the service refused. */
  readonly pushedBack: number;
  /** Ms from the knee's drop until the limit was below 7 (-1: never, or no drop). */
  readonly below7After: number;
}

/**
 * Runs `n` elements through a stage calling `service` with `workers`, on vitest's fake clock,
 * optionally dropping the service's knee to 4 at `dropAt` ms. Refused calls are retried.
 */
async function simulate(service: SimulatedService, workers: number | "auto", n: number, dropAt = Infinity): Promise<Outcome> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "clearImmediate", "Date", "performance"] });
  const samples: number[] = [];
  const start = performance.now();
  let finished = false;
  let droppedAt = -1;
  let below7After = -1;
  const run = pipe(() => range(n))
    .map((x) => service.call(x), { workers, retry: { retries: 10_000, minDelay: 5, maxDelay: 50 }, name: "call" })
    .run({ progressInterval: 10, onProgress: (stats: RunStats) => void samples.push(stats.stages[0]!.limit) })
    .finally(() => (finished = true));
  while (!finished) {
    await vi.advanceTimersByTimeAsync(5);
    const elapsed = performance.now() - start;
    if (droppedAt < 0 && elapsed >= dropAt) {
      service.knee = 4;
      droppedAt = elapsed;
    }
    if (droppedAt >= 0 && below7After < 0 && samples.at(-1)! < 7) below7After = elapsed - droppedAt;
  }
  await run;
  const elapsed = performance.now() - start;
  vi.useRealTimers();
  return {
    throughput: (n / elapsed) * 1_000,
    meanLimit: samples.reduce((sum, limit) => sum + limit, 0) / samples.length,
    pushedBack: service.refused / service.calls,
    below7After,
  };
}

describe('workers: "auto" against a service with a knee (fake clock)', () => {
  it("over 2 000 elements: the time-weighted limit within 8-14, under 5% pushed back, >= 0.9x the best fixed workers", async () => {
    const auto = await simulate(new SimulatedService(16), "auto", 2_000);
    let best = 0;
    for (const workers of [4, 8, 10, 11, 12, 13, 14, 16]) best = Math.max(best, (await simulate(new SimulatedService(16), workers, 2_000)).throughput);
    expect(auto.meanLimit).toBeGreaterThanOrEqual(8);
    expect(auto.meanLimit).toBeLessThanOrEqual(14);
    expect(auto.pushedBack).toBeLessThan(0.05);
    expect(auto.throughput).toBeGreaterThanOrEqual(0.9 * best);
  });

  it("when the knee drops to 4 mid-run, the limit is below 7 within 2 s", async () => {
    const outcome = await simulate(new SimulatedService(16), "auto", 3_000, 2_000);
    expect(outcome.below7After).toBeGreaterThanOrEqual(0);
    expect(outcome.below7After).toBeLessThanOrEqual(2_000);
  });

  it("a fixed workers stays where it is: its limit in the stats is workers", async () => {
    const outcome = await simulate(new SimulatedService(16), 12, 200);
    expect(outcome.meanLimit).toBe(12);
  });
});

describe('workers: "auto" in real time (ms-scale latencies, wide margins)', () => {
  it("settles below the knee with few refusals, and falls when the knee drops", async () => {
    const service = new SimulatedService(16, 8, 1);
    const limits: number[] = [];
    await pipe(() => range(600))
      .map((x) => service.call(x), { workers: "auto", retry: { retries: 10_000, minDelay: 2, maxDelay: 20 } })
      .run({ progressInterval: 5, onProgress: (stats) => void limits.push(stats.stages[0]!.limit) });
    const settled = limits.slice(Math.floor(limits.length / 2));
    const mean = settled.reduce((sum, limit) => sum + limit, 0) / settled.length;
    expect(mean).toBeGreaterThanOrEqual(4);
    expect(mean).toBeLessThanOrEqual(17);
    expect(service.refused / service.calls).toBeLessThan(0.25);

    const limiter = concurrencyLimiter({ initial: 16 });
    const narrow = new SimulatedService(4, 8, 1);
    await pipe(() => range(300)).map((x) => narrow.call(x), { workers: limiter, retry: { retries: 10_000, minDelay: 2, maxDelay: 20 } });
    expect(limiter.limit).toBeLessThan(7);
  });
});

describe("push-back", () => {
  it("ctx.pushback() from successful calls brings the limit down to min", async () => {
    const limiter = concurrencyLimiter({ min: 2, initial: 20 });
    await pipe(() => range(300)).map(
      async (x, ctx) => {
        await sleep(1);
        ctx.pushback();
        return x;
      },
      { workers: limiter },
    );
    expect(limiter.limit).toBe(2);
  });

  it("ctx.pushback() does nothing in a stage with fixed workers", async () => {
    const limits: number[] = [];
    const result = await pipe([1, 2, 3]).map((x, ctx) => (ctx.pushback(), x), { workers: 3 }).toArray({ onProgress: (s) => void limits.push(s.stages[0]!.limit) });
    expect(result.sort()).toEqual([1, 2, 3]);
    expect(new Set(limits)).toEqual(new Set([3]));
  });

  it("the default isPushback: a TimeoutError, or status/statusCode 429 or 503; nothing else", () => {
    expect(isPushbackError(new TimeoutError("map#1", 10, [0]))).toBe(true);
    expect(isPushbackError(new DOMException("late", "TimeoutError"))).toBe(true);
    expect(isPushbackError(Object.assign(new Error("x"), { status: 429 }))).toBe(true);
    expect(isPushbackError(Object.assign(new Error("x"), { statusCode: 503 }))).toBe(true);
    expect(isPushbackError(Object.assign(new Error("x"), { status: 500 }))).toBe(false);
    expect(isPushbackError(new Error("429"))).toBe(false);
    expect(isPushbackError(429)).toBe(false);
    expect(isPushbackError(null)).toBe(false);
  });

  it("failures that are not push-back leave the limit free to grow; a custom isPushback decides", async () => {
    const failing = async (x: number) => {
      await sleep(1);
      if (x % 2 === 0) throw Object.assign(new Error("bad input"), { code: x % 4 === 0 ? "SLOW" : "BAD" });
      return x;
    };
    const relaxed = concurrencyLimiter({ initial: 2, max: 8 });
    await pipe(() => range(400)).map(failing, { workers: relaxed, onError: "skip" });
    expect(relaxed.limit).toBeGreaterThan(2);

    const strict = concurrencyLimiter({ initial: 8, max: 8 });
    const seen: unknown[] = [];
    await pipe(() => range(400)).map(failing, {
      workers: strict,
      onError: "skip",
      isPushback: (error) => (seen.push(error), (error as { code?: string }).code === "SLOW"),
    });
    // Down from 8 to the floor: between two push-backs a steady window may add 1 again.
    expect(strict.limit).toBeLessThanOrEqual(2);
    expect(seen).toHaveLength(200);
  });

  it("an isPushback that throws fails the run with its error", async () => {
    const boom = new Error("isPushback broke");
    const run = pipe([1, 2, 3]).map(
      (x) => {
        throw new Error(`f ${x}`);
      },
      {
        workers: "auto",
        onError: "skip",
        isPushback: () => {
          throw boom;
        },
      },
    );
    await expect(run.toArray()).rejects.toBe(boom);
  });
});

describe("what the limit measures", () => {
  it("only a call's own duration: never the wait for a rate-limit turn, nor a retry's back-off", async () => {
    const limiter = concurrencyLimiter({ initial: 4 });
    const attempts = new Map<number, number>();
    await pipe(() => range(6)).map(
      async (x) => {
        await sleep(4);
        const attempt = (attempts.get(x) ?? 0) + 1;
        attempts.set(x, attempt);
        if (attempt === 1 && x % 2 === 0) throw new Error("once more");
        return x;
      },
      // Each start waits ~40 ms for its turn, and a failed call ~60 ms for its retry: a limit
      // that counted either would see latencies of 40 ms and more instead of ~4.
      { workers: limiter, rateLimit: { limit: 1, interval: 40 }, retry: { retries: 1, minDelay: 60, jitter: "none" } },
    );
    expect([...attempts.values()].reduce((sum, n) => sum + n, 0)).toBe(9);
    expect(limiter.latency).toBeGreaterThan(0);
    expect(limiter.latency).toBeLessThan(30);
  });

  it("a batch() stage reports a limit of 1, a fixed stage its workers", async () => {
    let last: RunStats | undefined;
    await pipe([1, 2, 3]).map((x) => x, { workers: 5 }).batch(2).run({ onProgress: (stats) => void (last = stats) });
    expect(last!.stages.map((stage) => stage.limit)).toEqual([5, 1]);
  });
});

describe("concurrencyLimiter()", () => {
  it("is one limit for every stage that shares it: their calls together never exceed it", async () => {
    const limiter = concurrencyLimiter({ min: 3, max: 3 });
    let inFlight = 0;
    let most = 0;
    const call = async (x: number) => {
      most = Math.max(most, ++inFlight);
      await sleep(1);
      inFlight--;
      return x;
    };
    const result = await pipe(() => range(60))
      .map(call, { workers: limiter })
      .map(call, { workers: limiter });
    expect(result).toHaveLength(60);
    expect(most).toBe(3);
    expect(limiter.inFlight).toBe(0);
  });

  it("a later run starts from the limit an earlier one left", async () => {
    const limiter = concurrencyLimiter({ initial: 2, max: 12 });
    await pipe(() => range(300)).map(async (x) => (await sleep(1), x), { workers: limiter });
    const left = limiter.limit;
    expect(left).toBeGreaterThan(2);
    // What the next run's first call sees, before any call of that run has settled.
    const seen: number[] = [];
    await pipe(() => range(5)).map((x) => (seen.push(limiter.limit), x), { workers: limiter });
    expect(seen[0]).toBe(left);
  });

  it("calls in flight never exceed the limit at their start, and the limit stays within its bounds (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.constantFrom("ok", "slow", "429", "pushback"), { minLength: 1, maxLength: 60 }),
        async (min, spread, outcomes) => {
          const limiter = concurrencyLimiter({ min, max: min + spread });
          let inFlight = 0;
          const over: string[] = [];
          await pipe(outcomes).map(
            async (outcome, ctx) => {
              if (++inFlight > limiter.limit || limiter.limit < min || limiter.limit > min + spread) over.push(`${inFlight}/${limiter.limit}`);
              await sleep(outcome === "slow" ? 3 : 1);
              inFlight--;
              if (outcome === "pushback") ctx.pushback();
              if (outcome === "429") throw Object.assign(new Error("429"), { status: 429 });
              return outcome;
            },
            { workers: limiter, onError: "skip" },
          );
          expect(over).toEqual([]);
          expect(limiter.inFlight).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("bad bounds are OptionsErrors", () => {
    expect(() => concurrencyLimiter({ min: 5, max: 2 })).toThrow(new OptionsError("concurrencyLimiter(): options.min must be at most max (2) (received 5)"));
    expect(() => concurrencyLimiter({ initial: 0 })).toThrow(OptionsError);
    expect(() => concurrencyLimiter({ max: 2.5 })).toThrow(new OptionsError("concurrencyLimiter(): options.max must be an integer >= 1 (received 2.5)"));
    expect(() => concurrencyLimiter(null as never)).toThrow(OptionsError);
    const defaults = concurrencyLimiter();
    expect([defaults.min, defaults.max, defaults.limit]).toEqual([1, 64, 4]);
    expect(concurrencyLimiter({ min: 10 }).limit).toBe(10);
    expect(concurrencyLimiter({ max: 2 }).limit).toBe(2);
    expect(concurrencyLimiter()).toBeInstanceOf(ConcurrencyLimiter);
  });
});

describe("adaptive stages' settings", () => {
  it('queues are sized by max: "auto" as 64 workers, bounds as their max', () => {
    expect(resolveStageOptions("m", { workers: "auto" }).maxsize).toBe(64);
    expect(resolveStageOptions("m", { workers: { max: 100 } }).maxsize).toBe(100);
    expect(resolveStageOptions("m", { workers: { max: 4 } }).maxsize).toBe(16);
    expect(resolveStageOptions("m", { workers: "auto" }).workers).toEqual({ min: 1, max: 64, initial: 4 });
  });

  it("workers: \"fast\", min > max and a non-function cost are OptionsErrors when the stage is built", () => {
    expect(() => pipe([1]).map((x) => x, { workers: "fast" as never })).toThrow(OptionsError);
    expect(() => pipe([1]).map((x) => x, { workers: { min: 9, max: 3 } })).toThrow(new OptionsError("map(): options.workers.min must be at most max (3) (received 9)"));
    expect(() => pipe([1]).map((x) => x, { cost: 5 as never, rateLimit: { limit: 1, interval: 10 } })).toThrow(new OptionsError("map(): options.cost must be a function (received 5)"));
  });
});
