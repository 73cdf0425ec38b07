/**
 * Rate limits (docs/behaviour.md §3): never more than `limit` call starts in any rolling
 * `interval` ms, waiting elements stay queued (backpressure), the wait is not part of
 * `timeout`, a shared limiter serves its waiters first come first served, `pauseFor` holds
 * every start, and no timer outlives a run.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { OptionsError, RateLimiter, TimeoutError, pipe, rateLimiter, type RateWaiter } from "@sluice/dsl";
import { CountingSource } from "./helpers/probes.js";
import { onLimiterClock, range, sleep, until } from "./helpers/time.js";
import { trackTimers } from "./helpers/timers.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/**
 * The largest number of starts inside any window of `interval` ms, less a tolerance for the
 * gap between the limiter's clock and f's on a busy machine (an eighth of the window: fixed
 * windows, the mistake this guards against, put twice the limit within a few ms of an edge).
 */
function busiestWindow(starts: readonly number[], interval: number, tolerance = Math.max(2, interval / 8)): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    let count = 0;
    for (let j = i; j < sorted.length && sorted[j]! - sorted[i]! < interval - tolerance; j++) count++;
    most = Math.max(most, count);
  }
  return most;
}

const timeouts = trackTimers();

describe("rateLimit", () => {
  it("never starts more than limit calls in any rolling interval (a sliding window)", async () => {
    const starts: number[] = [];
    await pipe(() => range(9)).map((x) => (starts.push(performance.now()), x), { workers: 10, rateLimit: { limit: 3, interval: 40 } });
    expect(starts).toHaveLength(9);
    expect(busiestWindow(starts, 40)).toBeLessThanOrEqual(3);
    // Three windows' worth of starts cannot fit in less than two intervals.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(2 * 40 - 2);
  });

  it("holds for random limits, windows, workers, sizes and call durations, exactly on the limiter's clock (property)", async () => {
    // Checked on the limiter's own clock (onLimiterClock, test/helpers/time.ts), with no tolerance.
    await onLimiterClock((clock) =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 8, max: 20 }),
          fc.integer({ min: 1, max: 6 }),
          fc.integer({ min: 0, max: 12 }),
          fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 12, maxLength: 12 }),
          async (limit, interval, workers, n, durations) => {
            const counted: number[] = [];
            // A call takes durations[x] ms; -1 is a synchronous f.
            const f = (x: number): number | Promise<number> => {
              counted.push(clock.last);
              const ms = durations[x]!;
              return ms < 0 ? x : sleep(ms).then(() => x);
            };
            const result = await pipe(() => range(n)).map(f, { workers, rateLimit: { limit, interval } });
            expect(result).toHaveLength(n);
            expect(busiestWindow(counted, interval, 0)).toBeLessThanOrEqual(limit);
          },
        ),
        { numRuns: 15 },
      ),
    );
  });

  it("reaches the limit: the run takes about as long as the windows it needs, not far more", async () => {
    const start = performance.now();
    await pipe(() => range(30)).map((x) => x, { workers: 8, rateLimit: { limit: 5, interval: 20 } });
    const elapsed = performance.now() - start;
    // 30 starts at 5 per 20 ms need 5 more windows after the first: 100 ms. Wide margin above for a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(100 - 2);
    expect(elapsed).toBeLessThan(100 * 3);
  });

  it("keeps waiting elements in the stage's queue, so the source is not pulled ahead", async () => {
    const source = new CountingSource();
    const controller = new AbortController();
    const before = timeouts();
    const run = pipe(source).map((x) => x, { maxsize: 2, rateLimit: { limit: 1, interval: 60_000 } }).run({ signal: controller.signal });
    await sleep(20);
    // One call started, two waiting in the queue, one pull refused by the full queue.
    expect(source.pulls).toBeLessThanOrEqual(4);
    controller.abort(new Error("enough"));
    await expect(run).rejects.toThrow("enough");
    // The wait ended at once (not after 60 s) and left no timer behind.
    expect(timeouts()).toBeLessThanOrEqual(before);
  });

  it("does not count the wait for a turn towards timeout", async () => {
    const result = await pipe([1, 2, 3]).map(async (x) => (await sleep(2), x), {
      workers: 3,
      timeout: 20,
      rateLimit: { limit: 1, interval: 40 },
    });
    expect(result.sort()).toEqual([1, 2, 3]);
  });

  it("still times out a slow call", async () => {
    await expect(
      pipe([1]).map(() => sleep(200), { timeout: 10, rateLimit: { limit: 1, interval: 1_000 } }),
    ).rejects.toBeInstanceOf(TimeoutError);
  });

  it("a shared limiter bounds every stage and run that uses it, together", async () => {
    const limiter = rateLimiter({ limit: 2, interval: 40 });
    const starts: number[] = [];
    const stamp = (x: number) => (starts.push(performance.now()), x);
    const one = pipe(() => range(4)).map(stamp, { workers: 4, rateLimit: limiter }).map(stamp, { workers: 4, rateLimit: limiter });
    await Promise.all([one.run(), one.run()]);
    expect(starts).toHaveLength(16);
    expect(busiestWindow(starts, 40)).toBeLessThanOrEqual(2);
  });

  it("rejects bad limits with an OptionsError naming the option", () => {
    expect(() => pipe([1]).map((x) => x, { rateLimit: { limit: 0, interval: 10 } })).toThrow(OptionsError);
    expect(() => pipe([1]).map((x) => x, { rateLimit: { limit: 0, interval: 10 } })).toThrow(
      "map(): options.rateLimit must be { limit: an integer >= 1, interval: milliseconds > 0 } or a RateLimiter (received an object (Object))",
    );
    expect(() => rateLimiter({ limit: 0, interval: 10 })).toThrow("rateLimiter(): options.limit must be an integer >= 1 (received 0)");
    expect(() => rateLimiter({ limit: 1, interval: -5 })).toThrow(
      "rateLimiter(): options.interval must be a number of milliseconds > 0 (at most 2147483647) (received -5)",
    );
  });
});

describe("RateLimiter", () => {
  class Waiter implements RateWaiter {
    grants = 0;
    constructor(private readonly order: string[], private readonly name: string) {}
    granted(): void {
      this.grants++;
      this.order.push(this.name);
    }
  }

  it("serves its waiters first come, first served", async () => {
    const limiter = new RateLimiter(1, 15);
    const order: string[] = [];
    const [a, b, c] = [new Waiter(order, "a"), new Waiter(order, "b"), new Waiter(order, "c")];
    expect(limiter.acquire(a)).toBe(true);
    expect(limiter.acquire(b)).toBe(false);
    expect(limiter.acquire(c)).toBe(false);
    // A newcomer does not jump the queue, even when the window has room.
    await until(() => order.length === 2, "two grants", 1_000);
    expect(order).toEqual(["b", "c"]);
    expect(limiter.acquire(a)).toBe(false);
    limiter.cancel(a);
  });

  it("pauseFor holds every start for that long", async () => {
    const limiter = rateLimiter({ limit: 100, interval: 10 });
    const order: string[] = [];
    const waiter = new Waiter(order, "w");
    limiter.pauseFor(40);
    const asked = performance.now();
    expect(limiter.acquire(waiter)).toBe(false);
    await until(() => waiter.grants === 1, "the grant after the pause", 1_000);
    expect(performance.now() - asked).toBeGreaterThanOrEqual(38);
  });

  /** The error `call` throws. */
  function thrown(call: () => void): unknown {
    try {
      call();
    } catch (error) {
      return error;
    }
    return undefined;
  }

  it("pauseFor rejects what is not a finite number of ms >= 0, naming itself and the value, and the limit holds", () => {
    const limiter = new RateLimiter(1, 60_000);
    const cases: Array<[unknown, ErrorConstructor, string]> = [
      [Number.NaN, RangeError, "NaN"],
      [-1, RangeError, "-1"],
      [Infinity, RangeError, "Infinity"],
      ["5", TypeError, '"5"'],
      [undefined, TypeError, "undefined"],
    ];
    for (const [ms, type, received] of cases) {
      const error = thrown(() => limiter.pauseFor(ms as number));
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toBe(`pauseFor(): ms must be a finite number of milliseconds >= 0 (received ${received})`);
    }
    // Number(res.headers.get("retry-after")) * 1_000 of an HTTP date is NaN: it must not lift the limit.
    const order: string[] = [];
    expect(limiter.acquire(new Waiter(order, "a"))).toBe(true);
    const b = new Waiter(order, "b");
    expect(limiter.acquire(b)).toBe(false);
    limiter.cancel(b);
  });

  it("pauseUntil holds every start until a date (a Retry-After HTTP date), as a Date or ms since the epoch", async () => {
    const limiter = rateLimiter({ limit: 100, interval: 10 });
    const order: string[] = [];
    const first = new Waiter(order, "first");
    limiter.pauseUntil(new Date(Date.now() + 40));
    expect(limiter.acquire(first)).toBe(false);
    await until(() => first.grants === 1, "the grant after the pause", 1_000);
    // A date in the past does not pause.
    limiter.pauseUntil(Date.now() - 1_000);
    expect(limiter.acquire(new Waiter(order, "second"))).toBe(true);
    limiter.pauseUntil(Date.now() + 60_000);
    const third = new Waiter(order, "third");
    expect(limiter.acquire(third)).toBe(false);
    limiter.cancel(third);
    for (const [until, received] of [
      [new Date("not a date"), "Invalid Date"],
      [Number.NaN, "NaN"],
      ["tomorrow", '"tomorrow"'],
    ] as const) {
      const error = thrown(() => limiter.pauseUntil(until as Date));
      expect(error).toBeInstanceOf(typeof until === "string" ? TypeError : RangeError);
      expect((error as Error).message).toBe(`pauseUntil(): until must be a valid Date or a number of ms since the epoch (received ${received})`);
    }
    expect(order).toEqual(["first"]);
  });

  it("a pause longer than the longest timer waits in timer-sized steps, not in Node's 1 ms overflow loop", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    try {
      const limiter = new RateLimiter(1, 10);
      limiter.pauseFor(2 ** 32);
      const waiter = new Waiter([], "w");
      expect(limiter.acquire(waiter)).toBe(false);
      await sleep(30);
      const longTimers = setTimeoutSpy.mock.calls.map((call) => call[1] ?? 0).filter((ms) => ms > 1_000);
      expect(longTimers).toEqual([2_147_483_647]);
      expect(waiter.grants).toBe(0);
      limiter.cancel(waiter);
    } finally {
      setTimeoutSpy.mockRestore();
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("TimeoutOverflowWarning");
  });

  it("cancel() removes a waiter and leaves no timer when nobody waits", () => {
    const before = timeouts();
    const limiter = new RateLimiter(1, 60_000);
    const order: string[] = [];
    expect(limiter.acquire(new Waiter(order, "a"))).toBe(true);
    const b = new Waiter(order, "b");
    expect(limiter.acquire(b)).toBe(false);
    expect(timeouts()).toBe(before + 1);
    limiter.cancel(b);
    expect(timeouts()).toBe(before);
  });
});

it("leaks no unhandled rejection", () => {
  expect(unhandled).toEqual([]);
});
