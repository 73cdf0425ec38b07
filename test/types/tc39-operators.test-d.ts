import { describe, expectTypeOf, it } from "vitest";
import { ElementError, drop, map, pipe, scan, take, takeWhile, tap, type ElementOf, type Operator, type Pipeline } from "@sluice/dsl";

describe("take, takeWhile, drop", () => {
  it("keep the element type; a type guard narrows takeWhile", () => {
    const p = pipe([1, "a", 2] as Array<number | string>);
    expectTypeOf(p.take(2)).toEqualTypeOf<Pipeline<number | string>>();
    expectTypeOf(p.drop(1)).toEqualTypeOf<Pipeline<number | string>>();
    expectTypeOf(p.takeWhile((x) => x !== "a")).toEqualTypeOf<Pipeline<number | string>>();
    expectTypeOf(p.takeWhile((x): x is number => typeof x === "number")).toEqualTypeOf<Pipeline<number>>();
    p.takeWhile((x, counter) => {
      expectTypeOf(counter).toEqualTypeOf<number>();
      return counter < 3;
    });
    // @ts-expect-error: n is a number
    p.take("2");
    // @ts-expect-error: the predicate must be a function
    p.takeWhile(true);
  });

  it("as operators, in pipe() and through()", () => {
    expectTypeOf(take<string>(2)).toEqualTypeOf<Operator<string, string>>();
    expectTypeOf(drop<Date>(1)).toEqualTypeOf<Operator<Date, Date>>();
    expectTypeOf(takeWhile((x: number | null): x is number => x !== null)).toEqualTypeOf<Operator<number | null, number>>();
    const q = pipe([1, 2, 3], map((x: number) => String(x)), take(2), drop(1));
    expectTypeOf<ElementOf<typeof q>>().toEqualTypeOf<string>();
    const r = pipe([1, null] as Array<number | null>).through(takeWhile((x: number | null): x is number => x !== null), take(1));
    expectTypeOf<ElementOf<typeof r>>().toEqualTypeOf<number>();
  });
});

describe("tap and scan", () => {
  it("tap keeps the element type; scan emits the accumulator type", () => {
    const p = pipe(["a", "b"]);
    expectTypeOf(p.tap((x) => x.length, { workers: 2 })).toEqualTypeOf<Pipeline<string>>();
    expectTypeOf(p.tap(async () => undefined)).toEqualTypeOf<Pipeline<string>>();
    expectTypeOf(p.scan((acc, x) => acc + x.length, 0)).toEqualTypeOf<Pipeline<number>>();
    expectTypeOf(p.scan(async (acc: string[], x) => [...acc, x], [] as string[])).toEqualTypeOf<Pipeline<string[]>>();
    expectTypeOf(tap((x: number) => x)).toEqualTypeOf<Operator<number, number>>();
    expectTypeOf(scan((acc: number, x: string) => acc + x.length, 0)).toEqualTypeOf<Operator<string, number>>();
    // @ts-expect-error: not a stage option
    p.tap((x) => x, { worker: 2 });
    // @ts-expect-error: the accumulator is a number
    p.scan((acc, x) => acc + x, 0);
  });
});

describe("terminals", () => {
  it("resolve with one value; find narrows with a type guard", () => {
    const p = pipe([1, "a"] as Array<number | string>);
    expectTypeOf(p.find((x) => String(x).length > 1)).toEqualTypeOf<Promise<number | string | undefined>>();
    expectTypeOf(p.find((x): x is string => typeof x === "string")).toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(p.some(async (x) => x === 1)).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(p.every((x) => x !== 1, { signal: AbortSignal.timeout(100) })).toEqualTypeOf<Promise<boolean>>();
    const n = pipe([1, 2]);
    expectTypeOf(n.reduce((a, b) => a + b)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(n.reduce((acc, x) => `${acc}${x}`, "")).toEqualTypeOf<Promise<string>>();
    expectTypeOf(n.reduce(async (acc: number[], x) => [...acc, x], [] as number[])).toEqualTypeOf<Promise<number[]>>();
    // @ts-expect-error: without an initial value the accumulator is the element type
    n.reduce((acc: string, x: number) => acc + x);
    // @ts-expect-error: a predicate takes the element only (not TC39's counter)
    n.find((x: number, i: number) => x === i);
  });
});

describe("fallback", () => {
  it("adds its value type to map's and tap's output, with the failure typed by the input", () => {
    const p = pipe([1, 2]);
    expectTypeOf(p.map((x) => String(x), { fallback: () => null })).toEqualTypeOf<Pipeline<string | null>>();
    expectTypeOf(p.map(async (x) => x * 2, { fallback: async () => "none" as const })).toEqualTypeOf<Pipeline<number | "none">>();
    expectTypeOf(p.map((x) => x, { retry: 2 })).toEqualTypeOf<Pipeline<number>>();
    p.map((x) => x, {
      fallback: (failure) => {
        expectTypeOf(failure).toEqualTypeOf<ElementError<number>>();
        expectTypeOf(failure.value).toEqualTypeOf<number>();
        return 0;
      },
    });
    expectTypeOf(p.tap(() => undefined, { fallback: () => "x" })).toEqualTypeOf<Pipeline<number | string>>();
    expectTypeOf(map((x: number) => x, { fallback: () => false })).toEqualTypeOf<Operator<number, number | boolean>>();
    // @ts-expect-error: filter takes no fallback
    p.filter((x) => x > 1, { fallback: () => 0 });
    // @ts-expect-error: each takes no fallback
    p.each((x) => x, { fallback: () => 0 });
  });
});
