import { describe, expectTypeOf, it } from "vitest";
import { concat, each, filter, flatMap, map, ordered, pipe, type ElementOf, type Operator } from "@sluice/dsl";

describe("operator types", () => {
  it("each operator function returns an Operator<In, Out>", () => {
    expectTypeOf(map((x: number) => String(x))).toEqualTypeOf<Operator<number, string>>();
    expectTypeOf(map(async (x: number) => x > 0)).toEqualTypeOf<Operator<number, boolean>>();
    expectTypeOf(filter((x: string) => x.length > 0)).toEqualTypeOf<Operator<string, string>>();
    expectTypeOf(filter((x: string | number): x is number => typeof x === "number")).toEqualTypeOf<
      Operator<string | number, number>
    >();
    expectTypeOf(flatMap((s: string) => s.split(""))).toEqualTypeOf<Operator<string, string>>();
    expectTypeOf(each((x: number) => x)).toEqualTypeOf<Operator<number, never>>();
    expectTypeOf(ordered<Date>()).toEqualTypeOf<Operator<Date, Date>>();
  });

  it("pipe(source, ...ops) infers through the operators", () => {
    const p = pipe(
      ["1", "x", "2"],
      map((s: string) => Number(s)),
      filter((n: number) => !Number.isNaN(n)),
      flatMap((n: number) => [n, n * 2]),
      ordered(),
    );
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number>();
  });

  it("a type guard in the filter operator narrows in pipe()", () => {
    const p = pipe([1, "a", null] as Array<number | string | null>, filter((x: number | string | null): x is string => typeof x === "string"));
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
  });

  it("types flow through twelve operators in pipe() and through()", () => {
    const inc = map((x: number) => x + 1);
    const p = pipe([0], inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, map((x: number) => `${x}`));
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
    const q = pipe([0]).through(inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, map((x: number) => x > 0));
    expectTypeOf<ElementOf<typeof q>>().toEqualTypeOf<boolean>();
  });

  it("past twelve type-changing operators the first twelve are still checked and the result is Pipeline<unknown>", () => {
    const inc = map((x: number) => x + 1);
    const toStr = map((x: number) => String(x));
    const p = pipe([0], inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, toStr);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<unknown>();
    // When every operator keeps the element type, the type survives any count.
    const same = pipe([0], inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc);
    expectTypeOf<ElementOf<typeof same>>().toEqualTypeOf<number>();
    // @ts-expect-error the third operator expects numbers, the second gives strings
    pipe([0], inc, toStr, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc, inc);
  });

  it("a run-time array of operators that keep the element type keeps it", () => {
    const steps: Array<Operator<number, number>> = [map((x: number) => x * 2), filter((x: number) => x > 0)];
    const p = pipe([1, 2], ...steps);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number>();
    const q = pipe([1]).through(...steps);
    expectTypeOf<ElementOf<typeof q>>().toEqualTypeOf<number>();
    const wrong: Array<Operator<string, string>> = [];
    // @ts-expect-error the operators expect strings
    pipe([1], ...wrong);
  });

  it("through() applies operators mid-chain with types", () => {
    const p = pipe([1, 2])
      .map((x) => ({ n: x }))
      .through(
        map((o: { n: number }) => o.n),
        filter((n: number) => n > 1),
      )
      .map((n) => [n]);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number[]>();
  });

  it("custom operators are plain functions of pipelines", () => {
    const parse: Operator<string, number> = (p) => p.map(Number).filter((n) => !Number.isNaN(n));
    const p = pipe(["1"], parse, map((n: number) => n.toFixed(2)));
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
  });

  it("mismatched operators do not compile", () => {
    // @ts-expect-error map expects strings, the source gives numbers
    pipe([1, 2], map((s: string) => s.length));
    // @ts-expect-error the second operator expects strings, the first gives numbers
    pipe(["a"], map((s: string) => s.length), map((s: string) => s.toUpperCase()));
    // @ts-expect-error through() checks its operators against the element type
    pipe([1]).through(filter((s: string) => s === ""));
  });
});

describe("concat types", () => {
  it("concat gives the union of its inputs' element types", () => {
    const p = concat(pipe([1]).map((x) => x * 2), ["a"], new Set([true]), async function* () {
      yield 1n;
    });
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number | string | boolean | bigint>();
  });

  it("concat of one kind keeps that type, and can be extended", () => {
    const p = concat([1], pipe([2]), Promise.resolve([3])).map((x) => x + 1);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number>();
  });

  it("concat with no inputs is Pipeline<never>", () => {
    const p = concat();
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<never>();
  });

  it("concat rejects non-sources", () => {
    // @ts-expect-error a number is not a source
    concat([1], 2);
  });
});
