import { describe, expectTypeOf, it } from "vitest";
import { pipe, source, type Pipeline, type SourceOutcome } from "@sluice/dsl";

describe("source(items, { settle })", () => {
  it("infers the element type from items and types settle's arguments with it", () => {
    const numbers = source([1, 2], {
      settle: (element, outcome) => {
        expectTypeOf(element).toEqualTypeOf<number>();
        expectTypeOf(outcome).toEqualTypeOf<SourceOutcome>();
      },
    });
    expectTypeOf(numbers).toEqualTypeOf<Pipeline<number>>();
    expectTypeOf(source(function* () { yield "a"; }, { settle: async () => {} })).toEqualTypeOf<Pipeline<string>>();
    expectTypeOf(pipe(source([1], { settle: () => {} })).map(String)).toEqualTypeOf<Pipeline<string>>();
  });

  it("narrows the outcome by its status", () => {
    source([1], {
      settle: (_, outcome) => {
        if (outcome.status === "failed") expectTypeOf(outcome.error).toBeUnknown();
        if (outcome.status === "released") expectTypeOf(outcome.reason).toBeUnknown();
      },
    });
  });

  it("rejects a settle that expects another element type, or no settle", () => {
    // @ts-expect-error: the elements are numbers
    source([1], { settle: (element: string) => void element });
    // @ts-expect-error: settle is required
    source([1], {});
  });
});
