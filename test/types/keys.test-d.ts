/**
 * The types of `key` (docs/behaviour.md §13): its parameter is the stage's element type, on
 * every worker stage and in the operator forms; it returns a property key, `null` or
 * `undefined`; anything else does not compile.
 */
import { describe, expectTypeOf, it } from "vitest";
import { each, filter, flatMap, map, pipe, type StageOptions } from "@sluice/dsl";
import { mapOnThreads } from "@sluice/piscina";

interface Payment {
  readonly account: string;
  readonly amount: number;
  readonly shard?: number;
}

const payments = pipe([] as Payment[]);

describe("key", () => {
  it("receives the stage's element type on map, filter, flatMap and each", () => {
    payments.map((p) => p.amount, {
      key: (p) => {
        expectTypeOf(p).toEqualTypeOf<Payment>();
        return p.account;
      },
    });
    payments.filter((p) => p.amount > 0, { key: (p) => p.account });
    payments.flatMap((p) => [p, p], { key: (p) => p.shard });
    payments.each(() => undefined, { key: (p) => p.amount });
    // After a map, the element type is the map's output.
    payments
      .map((p) => p.amount)
      .map((n) => n * 2, {
        key: (n) => {
          expectTypeOf(n).toEqualTypeOf<number>();
          return n % 4;
        },
      });
  });

  it("takes a string, number or symbol key, or null or undefined for no order", () => {
    const kind = Symbol("kind");
    payments.map((p) => p, { key: (p) => (p.amount > 0 ? p.account : null) });
    payments.map((p) => p, { key: () => kind });
    payments.map((p) => p, { key: () => undefined });
  });

  it("rejects a key of the wrong element type, a non-key result, and a non-function", () => {
    // @ts-expect-error the element is a Payment, not a number
    payments.map((p) => p, { key: (n: number) => n });
    // @ts-expect-error an object is not a property key
    payments.map((p) => p, { key: (p) => ({ account: p.account }) });
    // @ts-expect-error key is a function
    payments.map((p) => p, { key: "account" });
    // @ts-expect-error the element has no such field
    payments.each((p) => p, { key: (p) => p.customer });
  });

  it("the operator forms type key by their element type", () => {
    pipe(
      [{ account: "a", amount: 1 }] as Payment[],
      map((p: Payment) => p, { key: (p) => p.account }),
      filter((p: Payment) => p.amount > 0, { key: (p) => p.account }),
      flatMap((p: Payment) => [p], { key: (p) => p.account }),
      each((p: Payment) => p, { key: (p) => p.account }),
    );
    // @ts-expect-error a Payment has no length
    map((p: Payment) => p, { key: (p) => p.length });
  });

  it("StageOptions takes the element type as its second parameter", () => {
    expectTypeOf<NonNullable<StageOptions<{}, Payment>["key"]>>().toEqualTypeOf<(element: Payment) => PropertyKey | null | undefined>();
    const options: StageOptions<{}, Payment> = { workers: 4, key: (p) => p.account };
    payments.map((p) => p, options);
  });

  it("mapOnThreads types key by the worker function's input", () => {
    mapOnThreads<(bytes: Uint8Array) => string>("./hash.worker.js", { key: (bytes) => bytes.byteLength });
    // @ts-expect-error the input is a Uint8Array
    mapOnThreads<(bytes: Uint8Array) => string>("./hash.worker.js", { key: (text: string) => text });
  });
});
