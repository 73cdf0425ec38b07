import { describe, expectTypeOf, it } from "vitest";
import { each, filter, flatMap, map, pipe, type Context, type ElementOf, type EngineContext, type HookInfo, type Operator } from "@sluice/dsl";

interface User {
  readonly id: string;
  readonly name: string;
}

class Client {
  get(id: string): Promise<User> {
    return Promise.resolve({ id, name: "n" });
  }
}

// The two functions of issue 21: their second parameter is not what a stage passes.
declare function fetchUser(id: string, signal?: AbortSignal): Promise<User>;
declare function render(id: string, options: { verbose: boolean }): string;
declare function withClient(id: string, ctx: Context<{ client: Client }>): Promise<User>;

describe("f's second parameter must accept the stage's ctx", () => {
  it("a function whose second parameter is an AbortSignal is an error", () => {
    // @ts-expect-error: ctx is not an AbortSignal (pass ctx.signal instead)
    pipe(["1"]).map(fetchUser);
    // @ts-expect-error: the same for filter
    pipe(["1"]).filter((id: string, signal?: AbortSignal) => signal?.aborted !== true);
    // @ts-expect-error: and flatMap
    pipe(["1"]).flatMap((id: string, signal?: AbortSignal) => [id, signal]);
    // @ts-expect-error: and each
    pipe(["1"]).each(fetchUser);
  });

  it("a function wanting keys that ctx does not have is an error", () => {
    // @ts-expect-error: ctx has no verbose
    pipe(["1"]).map((id, ctx: { verbose: boolean }) => (ctx.verbose ? id : ""));
    // @ts-expect-error: the same for a declared function
    pipe(["1"]).map(render);
    // @ts-expect-error: and filter
    pipe(["1"]).filter((id, ctx: { verbose: boolean }) => ctx.verbose);
    // @ts-expect-error: and a type guard in filter
    pipe<string | number>(["1"]).filter((x, ctx: { verbose: boolean }): x is string => ctx.verbose);
    // @ts-expect-error: and flatMap
    pipe(["1"]).flatMap((id, ctx: { verbose: boolean }) => [id, ctx.verbose]);
    // @ts-expect-error: and each
    pipe(["1"]).each(render);
  });

  it("the operator functions reject them too", () => {
    // @ts-expect-error: map
    map(fetchUser);
    // @ts-expect-error: map with a wrong ctx
    map(render);
    // @ts-expect-error: filter
    filter((id: string, ctx: { verbose: boolean }) => ctx.verbose);
    // @ts-expect-error: filter with a type guard
    filter((x: string | number, ctx: { verbose: boolean }): x is string => ctx.verbose);
    // @ts-expect-error: flatMap
    flatMap((id: string, signal?: AbortSignal) => [id, signal]);
    // @ts-expect-error: each
    each(fetchUser);
  });

  it("a ctx typed with onStart's keys needs an onStart that returns them", () => {
    // @ts-expect-error: no onStart, so ctx has no client
    pipe(["1"]).map(withClient);
    // @ts-expect-error: onStart returns a pool, not a client
    pipe(["1"]).map(withClient, { onStart: () => ({ pool: new Client() }) });
    // @ts-expect-error: the operator form, without onStart
    map(withClient);
  });
});

describe("what compiles today and is correct still compiles", () => {
  it("f without ctx, and with ctx inferred", () => {
    const a = pipe(["1"]).map((id) => id.length);
    expectTypeOf<ElementOf<typeof a>>().toEqualTypeOf<number>();
    const b = pipe(["1"]).map((id, ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<Context>();
      return ctx.signal;
    });
    expectTypeOf<ElementOf<typeof b>>().toEqualTypeOf<AbortSignal>();
    const c = pipe(["1"]).map((id, { signal }) => fetchUser(id, signal));
    expectTypeOf<ElementOf<typeof c>>().toEqualTypeOf<User>();
  });

  it("ctx typed as Context<C> with the C that onStart returns", () => {
    const p = pipe(["1"]).map(withClient, { onStart: () => ({ client: new Client() }) });
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<User>();
    const more = pipe(["1"]).map(withClient, { onStart: (info: HookInfo) => ({ client: new Client(), label: info.stage }) });
    expectTypeOf<ElementOf<typeof more>>().toEqualTypeOf<User>();
    const async = pipe(["1"]).map(withClient, { onStart: async () => ({ client: new Client() }) });
    expectTypeOf<ElementOf<typeof async>>().toEqualTypeOf<User>();
    const op = map(withClient, { onStart: () => ({ client: new Client() }) });
    expectTypeOf(op).toEqualTypeOf<Operator<string, User>>();
  });

  it("a wider second parameter: object, unknown, EngineContext, Context, fetch-style options", () => {
    const wide = pipe(["1"])
      .map((id, ctx: object) => ({ id, ctx }))
      .filter((x, ctx: unknown) => ctx !== undefined)
      .flatMap((x, ctx: EngineContext) => [x.id, ctx.stage])
      .map((s, ctx: Context) => `${s}@${ctx.index.join(".")}`);
    expectTypeOf<ElementOf<typeof wide>>().toEqualTypeOf<string>();
    const fetchStyle = pipe(["1"]).map((id: string, init?: { signal?: AbortSignal | null }) => init?.signal ?? id);
    expectTypeOf<ElementOf<typeof fetchStyle>>().toEqualTypeOf<AbortSignal | string>();
    pipe(["1"]).each((id, ctx: object) => void ctx, { onStart: () => ({ client: new Client() }) });
  });

  it("a type guard with ctx still narrows", () => {
    const p = pipe<string | number>(["1", 2]).filter((x, ctx): x is string => typeof x === "string" && ctx.attempt > 0);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
    const op = filter((x: string | number, ctx: Context): x is number => typeof x === "number" && ctx.index.length > 0);
    expectTypeOf(op).toEqualTypeOf<Operator<string | number, number>>();
  });
});
