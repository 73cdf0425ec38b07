/**
 * Costs (docs/behaviour.md §16): `cost` makes a call take that many units of its stage's
 * `rateLimit`, `ctx.charge(units)` adds units once the real cost is known; in every rolling
 * window the units stay within the limit, except a call costing more than the whole limit,
 * which runs alone in an empty window. A bad cost fails its element, not the stage.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ElementErrors, OptionsError, pipe, rateLimiter } from "@sluice/dsl";
import { onLimiterClock, range, sleep } from "./helpers/time.js";

/** A call start: when (performance.now()) and the units it took. */
interface Start {
  readonly at: number;
  readonly units: number;
}

/**
 * The windows of `interval` ms (less a tolerance for the gap between the limiter's clock and
 * f's on a busy machine) that break the rule: more than `limit` units, or an oversize start
 * sharing its window with another start that took units (a start of 0 units takes nothing
 * from anyone). Empty when every window keeps the rule.
 */
function brokenWindows(starts: readonly Start[], limit: number, interval: number, tolerance = Math.max(2, interval / 8)): string[] {
  const sorted = [...starts].sort((a, b) => a.at - b.at);
  const broken: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let units = 0;
    let paying = 0;
    let oversize = false;
    for (let j = i; j < sorted.length && sorted[j]!.at - sorted[i]!.at < interval - tolerance; j++) {
      units += sorted[j]!.units;
      if (sorted[j]!.units > 0) paying++;
      if (sorted[j]!.units > limit) oversize = true;
    }
    if (oversize ? paying > 1 : units > limit) broken.push(`${paying} paying starts, ${units} units from ${sorted[i]!.at.toFixed(1)} ms`);
  }
  return broken;
}

describe("cost", () => {
  it("every rolling window stays within the limit, an oversize call alone in its window (property)", async () => {
    // Checked on the limiter's own clock (onLimiterClock, test/helpers/time.ts), with no tolerance.
    await onLimiterClock((clock) =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 2, max: 6 }),
          fc.integer({ min: 16, max: 30 }),
          fc.integer({ min: 1, max: 6 }),
          fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 12 }),
          async (limit, interval, workers, costs) => {
            const starts: Start[] = [];
            const result = await pipe(costs.map((cost, i) => ({ i, cost }))).map(
              async (element) => {
                starts.push({ at: clock.last, units: element.cost });
                await sleep(1);
                return element.i;
              },
              { workers, rateLimit: { limit, interval }, cost: (element) => element.cost },
            );
            expect(result.sort((a, b) => a - b)).toEqual(costs.map((_, i) => i));
            expect(brokenWindows(starts, limit, interval, 0)).toEqual([]);
          },
        ),
        { numRuns: 20 },
      ),
    );
  });

  it("a call costing more than the whole limit runs, alone, instead of waiting forever", async () => {
    const starts: Start[] = [];
    const result = await pipe([1, 10, 1]).ordered().map((units) => (starts.push({ at: performance.now(), units }), units), { rateLimit: { limit: 3, interval: 30 }, cost: (units) => units });
    expect(result.sort((a, b) => a - b)).toEqual([1, 1, 10]);
    expect(brokenWindows(starts, 3, 30)).toEqual([]);
  });

  it("each attempt takes the element's units again, as each attempt is a call start", async () => {
    let attempts = 0;
    const limiter = rateLimiter({ limit: 30, interval: 60_000 });
    await pipe([7]).map(
      (x) => {
        if (++attempts < 3) throw new Error("again");
        return x;
      },
      { rateLimit: limiter, cost: (x) => x, retry: { retries: 3, minDelay: 1, jitter: "none" } },
    );
    expect(attempts).toBe(3);
    // Three starts of 7 units: 21 of 30 taken, so 9 more fit now and then not 1 more.
    const waiter = { granted: () => undefined };
    expect(limiter.acquire(waiter, 9)).toBe(true);
    expect(limiter.acquire(waiter, 1)).toBe(false);
    limiter.cancel(waiter);
  });

  it("a cost that throws fails that element as f would: with onError: \"collect\" the others go on", async () => {
    const boom = new Error("no estimate");
    const run = pipe([1, 2, 3]).map((x) => x * 10, {
      rateLimit: { limit: 100, interval: 1_000 },
      cost: (x) => {
        if (x === 2) throw boom;
        return 1;
      },
      onError: "collect",
    });
    const { results, errors } = await run.toResult();
    expect([...results].sort((a, b) => a - b)).toEqual([10, 30]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error).toBe(boom);
    expect(errors[0]!.value).toBe(2);
  });

  it("a cost that is negative, NaN, Infinity or not a number fails the element, and by default the run", async () => {
    for (const [bad, kind] of [
      [-1, RangeError],
      [Number.NaN, RangeError],
      [Number.POSITIVE_INFINITY, RangeError],
      ["3", TypeError],
    ] as const) {
      const run = pipe([1]).map((x) => x, { rateLimit: { limit: 10, interval: 100 }, cost: () => bad as number });
      const error = await run.toArray().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(kind);
      expect((error as Error).message).toMatch(/^map#1: cost must return a finite number >= 0 \(received /);
    }
  });

  it("a cost without a rateLimit is an OptionsError", () => {
    expect(() => pipe([1]).map((x) => x, { cost: () => 1 })).toThrow(OptionsError);
  });
});

describe("ctx.charge(units)", () => {
  it("counts after the fact: later starts wait until the charged units leave the window", async () => {
    const starts: number[] = [];
    const interval = 60;
    await pipe([0, 1, 2]).ordered().map(
      (x, ctx) => {
        starts.push(performance.now());
        if (x === 0) ctx.charge(4); // the first call's real cost: 1 + 4 = the whole limit of 5
        return x;
      },
      { rateLimit: { limit: 5, interval } },
    );
    expect(starts).toHaveLength(3);
    // The second start had to wait for the window that held the first call's 5 units.
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(interval - 2);
  });

  it("does nothing without a rateLimit; a bad number fails the element", async () => {
    expect(await pipe([1]).map((x, ctx) => (ctx.charge(1_000), x))).toEqual([1]);
    const run = pipe(() => range(3)).map((x, ctx) => (ctx.charge(x === 1 ? -1 : 0), x), { rateLimit: { limit: 10, interval: 100 }, onError: "collect" });
    const error = await run.toArray().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ElementErrors);
    expect((error as ElementErrors).errors[0]!.error).toBeInstanceOf(RangeError);
  });
});
