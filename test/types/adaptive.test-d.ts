import { describe, expectTypeOf, it } from "vitest";
import {
  ConcurrencyLimiter,
  concurrencyLimiter,
  map,
  pipe,
  rateLimiter,
  type AdaptiveWorkers,
  type Context,
  type StageOptions,
  type StageStats,
} from "@sluice/dsl";

const words = pipe(["a", "bb", "ccc"]);
const tokens = rateLimiter({ limit: 1_000, interval: 60_000 });

describe("adaptive workers", () => {
  it('takes a count, "auto", bounds or a shared limiter', () => {
    words.map((w) => w, { workers: 4 });
    words.map((w) => w, { workers: "auto" });
    words.map((w) => w, { workers: { min: 2, max: 32, initial: 8 } });
    words.map((w) => w, { workers: {} satisfies AdaptiveWorkers });
    words.map((w) => w, { workers: concurrencyLimiter({ max: 8 }) });
    map((w: string) => w, { workers: "auto" });
    expectTypeOf(concurrencyLimiter()).toEqualTypeOf<ConcurrencyLimiter>();
    expectTypeOf(concurrencyLimiter().limit).toEqualTypeOf<number>();
  });

  it("rejects other strings and mistyped bounds", () => {
    // @ts-expect-error "fast" is not a workers
    words.map((w) => w, { workers: "fast" });
    // @ts-expect-error bounds are numbers
    words.map((w) => w, { workers: { min: "1" } });
    // @ts-expect-error no such bound
    words.map((w) => w, { workers: { mn: 1 } });
    // @ts-expect-error a rate limiter is not a concurrency limiter
    words.map((w) => w, { workers: tokens });
  });

  it("isPushback takes the error and returns a boolean", () => {
    words.map((w) => w, { workers: "auto", isPushback: (error) => error instanceof RangeError });
    // @ts-expect-error isPushback must be a function
    words.map((w) => w, { isPushback: true });
  });

  it("ctx has pushback() and charge(units)", () => {
    words.map((w, ctx) => {
      expectTypeOf(ctx.pushback).toEqualTypeOf<() => void>();
      expectTypeOf(ctx.charge).toEqualTypeOf<(units: number) => void>();
      return w;
    });
    expectTypeOf<Context>().toHaveProperty("charge");
    // @ts-expect-error charge takes a number of units
    words.map((w, ctx) => ctx.charge("3"));
    // @ts-expect-error onStart may not return the engine's pushback
    words.map((w) => w, { onStart: () => ({ pushback: 1 }) });
  });
});

describe("cost", () => {
  it("receives the stage's element", () => {
    words.map((w) => w, { rateLimit: tokens, cost: (w) => w.length });
    words.map((w) => w, { rateLimit: tokens, cost: (w) => expectTypeOf(w).toEqualTypeOf<string>() as unknown as number });
    words.filter((w) => w.length > 1, { rateLimit: tokens, cost: (w: string) => w.length });
    map((n: number) => n * 2, { rateLimit: tokens, cost: (n) => n });
  });

  it("a cost of another element type, or returning no number, does not compile", () => {
    // @ts-expect-error the elements are strings
    words.map((w) => w, { rateLimit: tokens, cost: (n: number) => n });
    // @ts-expect-error a cost is a number of units
    words.map((w) => w, { rateLimit: tokens, cost: (w) => w });
  });

  it("options typed without an element still fit every stage", () => {
    const shared: StageOptions = { workers: "auto", isPushback: () => false };
    words.map((w) => w, shared);
    pipe([1]).map((n) => n, shared);
  });
});

describe("stats", () => {
  it("every stage entry has its limit", () => {
    expectTypeOf<StageStats["limit"]>().toEqualTypeOf<number>();
  });
});
