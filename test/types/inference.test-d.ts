import { Readable } from "node:stream";
import { describe, expectTypeOf, it } from "vitest";
import { pipe, type Context, type ElementOf, type Pipeline } from "@sluice/dsl";

interface User {
  readonly id: number;
  readonly name: string;
}

describe("element types along the chain", () => {
  it("map infers the result type, awaiting promises", () => {
    const p = pipe([1, 2, 3]).map((x) => String(x));
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<string>();
    const q = pipe([1]).map(async (x) => ({ id: x, name: "n" }) as User);
    expectTypeOf<ElementOf<typeof q>>().toEqualTypeOf<User>();
    const nested = pipe([1]).map(async (x) => Promise.resolve(x > 0));
    expectTypeOf<ElementOf<typeof nested>>().toEqualTypeOf<boolean>();
  });

  it("f receives the element type and a Context", () => {
    pipe(["a"]).map((x, ctx) => {
      expectTypeOf(x).toEqualTypeOf<string>();
      expectTypeOf(ctx).toEqualTypeOf<Context>();
      expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
      expectTypeOf(ctx.index).toEqualTypeOf<readonly number[]>();
      expectTypeOf(ctx.stage).toEqualTypeOf<string>();
      return x;
    });
  });

  it("filter keeps the type; a type guard narrows it", () => {
    const mixed = pipe<number | string | null>([1, "a", null]);
    const same = mixed.filter((x) => Boolean(x));
    expectTypeOf<ElementOf<typeof same>>().toEqualTypeOf<number | string | null>();
    // TypeScript 5.5+ infers `x is number | string` from this arrow, and filter narrows with it.
    const inferred = mixed.filter((x) => x !== null);
    expectTypeOf<ElementOf<typeof inferred>>().toEqualTypeOf<number | string>();
    const numbers = mixed.filter((x): x is number => typeof x === "number");
    expectTypeOf<ElementOf<typeof numbers>>().toEqualTypeOf<number>();
    const asyncFilter = mixed.filter(async (x) => x !== null); // a promise cannot be a type guard
    expectTypeOf<ElementOf<typeof asyncFilter>>().toEqualTypeOf<number | string | null>();
  });

  it("flatMap flattens arrays, iterables, async iterables and promises of iterables", () => {
    const fromArray = pipe(["a b"]).flatMap((s) => s.split(" "));
    expectTypeOf<ElementOf<typeof fromArray>>().toEqualTypeOf<string>();
    const fromSet = pipe([1]).flatMap((x) => new Set([x > 0]));
    expectTypeOf<ElementOf<typeof fromSet>>().toEqualTypeOf<boolean>();
    const fromAsyncGen = pipe([1]).flatMap(async function* (x) {
      yield { id: x, name: "" } as User;
    });
    expectTypeOf<ElementOf<typeof fromAsyncGen>>().toEqualTypeOf<User>();
    const fromPromise = pipe([1]).flatMap(async (x) => [String(x)]);
    expectTypeOf<ElementOf<typeof fromPromise>>().toEqualTypeOf<string>();
  });

  it("each gives Pipeline<never>; ordered keeps the type", () => {
    const effects = pipe([1]).each(() => undefined);
    expectTypeOf<ElementOf<typeof effects>>().toEqualTypeOf<never>();
    const inOrder = pipe([1]).map((x) => `${x}`).ordered();
    expectTypeOf<ElementOf<typeof inOrder>>().toEqualTypeOf<string>();
  });

  it("a long chain carries its type to the end", () => {
    const p = pipe([1, 2, 3])
      .map((x) => x * 2)
      .filter((x) => x > 2)
      .map(async (x) => ({ id: x, name: `u${x}` }) as User)
      .flatMap((u) => [u.name, u.id] as const)
      .filter((v): v is string => typeof v === "string")
      .ordered()
      .map((s) => s.length);
    expectTypeOf<ElementOf<typeof p>>().toEqualTypeOf<number>();
  });
});

describe("source element types", () => {
  it("every source kind gives its element type", () => {
    expectTypeOf<ElementOf<ReturnType<typeof pipe<number>>>>().toEqualTypeOf<number>();
    const fromSet = pipe(new Set(["a"]));
    expectTypeOf<ElementOf<typeof fromSet>>().toEqualTypeOf<string>();
    const fromGenFactory = pipe(function* () {
      yield 1;
    });
    expectTypeOf<ElementOf<typeof fromGenFactory>>().toEqualTypeOf<number>();
    const fromAsyncGen = pipe(async function* () {
      yield true;
    });
    expectTypeOf<ElementOf<typeof fromAsyncGen>>().toEqualTypeOf<boolean>();
    const fromStream = pipe(new ReadableStream<User>());
    expectTypeOf<ElementOf<typeof fromStream>>().toEqualTypeOf<User>();
    const fromPromise = pipe(Promise.resolve([1n]));
    expectTypeOf<ElementOf<typeof fromPromise>>().toEqualTypeOf<bigint>();
    const fromAsyncFactory = pipe(async () => ["x"]);
    expectTypeOf<ElementOf<typeof fromAsyncFactory>>().toEqualTypeOf<string>();
    const fromPipeline = pipe(pipe([1]).map(String));
    expectTypeOf<ElementOf<typeof fromPipeline>>().toEqualTypeOf<string>();
    const fromReadable = pipe<User>(Readable.from([]));
    expectTypeOf<ElementOf<typeof fromReadable>>().toEqualTypeOf<User>();
  });

  it("ElementOf names the element type of sources", () => {
    expectTypeOf<ElementOf<number[]>>().toEqualTypeOf<number>();
    expectTypeOf<ElementOf<() => AsyncGenerator<string>>>().toEqualTypeOf<string>();
    expectTypeOf<ElementOf<Promise<Set<boolean>>>>().toEqualTypeOf<boolean>();
    expectTypeOf<ElementOf<Pipeline<User>>>().toEqualTypeOf<User>();
  });

  it("bad sources do not compile", () => {
    // @ts-expect-error a number is not a source
    pipe(42);
    // @ts-expect-error a plain object is not a source
    pipe({ a: 1 });
    // @ts-expect-error a factory with a parameter is not a source
    pipe((n: number) => [n]);
  });
});

describe("consumption types", () => {
  const p = pipe([1]).map((x) => String(x));

  it("await and toArray give T[]; run gives void; iterate gives an async iterator of T", () => {
    expectTypeOf(p.toArray()).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(p.run()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(p.iterate()).toEqualTypeOf<AsyncIterableIterator<string>>();
    expectTypeOf(p.toArray({ signal: new AbortController().signal })).toEqualTypeOf<Promise<string[]>>();
    const awaited = async () => await p;
    expectTypeOf(awaited).returns.resolves.toEqualTypeOf<string[]>();
  });

  it("a pipeline is a PromiseLike of T[] and an AsyncIterable of T", () => {
    expectTypeOf<Awaited<typeof p>>().toEqualTypeOf<string[]>();
    expectTypeOf(p).toExtend<PromiseLike<string[]>>();
    expectTypeOf(p).toExtend<AsyncIterable<string>>();
  });

  it("for await gives T", async () => {
    for await (const x of p) expectTypeOf(x).toEqualTypeOf<string>();
  });

  it("consumption options reject unknown keys", () => {
    // @ts-expect-error only signal is an option
    void p.toArray({ signl: undefined });
  });
});
