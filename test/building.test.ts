import { describe, expect, it } from "vitest";
import { Pipeline, filter, flatMap, map, ordered, pipe } from "@sluice/dsl";
import { range, sleep, tick } from "./helpers/time.js";
import { sorted } from "./helpers/probes.js";

describe("laziness", () => {
  it("building a pipeline calls neither the source factory nor any f", async () => {
    const calls: string[] = [];
    const p = pipe(() => {
      calls.push("source");
      return [1, 2, 3];
    })
      .map((x) => {
        calls.push("map");
        return x;
      })
      .filter(() => {
        calls.push("filter");
        return true;
      })
      .flatMap((x) => {
        calls.push("flatMap");
        return [x];
      })
      .ordered();
    await sleep(5);
    expect(p).toBeInstanceOf(Pipeline);
    expect(calls).toEqual([]);
  });

  it("building does not pull from a generator given as the source", async () => {
    let pulls = 0;
    function* gen(): Generator<number> {
      for (;;) yield pulls++;
    }
    pipe(gen()).map((x) => x * 2);
    await tick();
    expect(pulls).toBe(0);
  });

  it("creating an iterator with iterate() starts nothing until the first next()", async () => {
    let factoryCalls = 0;
    let fCalls = 0;
    const p = pipe(() => {
      factoryCalls++;
      return [1, 2];
    }).map((x) => {
      fCalls++;
      return x;
    });
    const iterator = p.iterate();
    await sleep(5);
    expect([factoryCalls, fCalls]).toEqual([0, 0]);
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    expect(factoryCalls).toBe(1);
    await iterator.return?.();
  });
});

describe("re-runs", () => {
  it("each consumption is an independent run that calls the factory and every f again", async () => {
    let factoryCalls = 0;
    let fCalls = 0;
    const p = pipe(() => {
      factoryCalls++;
      return range(5);
    }).map((x) => {
      fCalls++;
      return x * 10;
    });

    expect(await p).toEqual([0, 10, 20, 30, 40]);
    expect(await p.toArray()).toEqual([0, 10, 20, 30, 40]);
    const iterated: number[] = [];
    for await (const x of p) iterated.push(x);
    expect(iterated).toEqual([0, 10, 20, 30, 40]);
    await p.run();

    expect(factoryCalls).toBe(4);
    expect(fCalls).toBe(20);
  });

  it("concurrent runs of one pipeline share the event loop and each gets every element", async () => {
    const p = pipe(() => range(20)).map(
      async (x) => {
        await sleep(1);
        return x;
      },
      { workers: 4 },
    );
    const [a, b, c] = await Promise.all([p.toArray(), p.toArray(), p.toArray()]);
    const all = [...range(20)];
    expect(sorted(a)).toEqual(all);
    expect(sorted(b)).toEqual(all);
    expect(sorted(c)).toEqual(all);
  });
});

describe("immutability", () => {
  it("every builder method returns a new pipeline and leaves the receiver unchanged", async () => {
    const base = pipe([1, 2, 3]);
    const mapped = base.map((x) => x * 2);
    const filtered = base.filter((x) => x !== 2);
    const flat = base.flatMap((x) => [x, x]);
    const each = base.each(() => undefined);
    const inOrder = base.ordered();
    const through = base.through(map((x: number) => x + 1));

    const all = [mapped, filtered, flat, each, inOrder, through];
    for (const p of all) expect(p).not.toBe(base);
    expect(new Set(all).size).toBe(all.length);

    expect(await base).toEqual([1, 2, 3]);
    expect(await mapped).toEqual([2, 4, 6]);
    expect(await filtered).toEqual([1, 3]);
    expect(await flat).toEqual([1, 1, 2, 2, 3, 3]);
    expect(await each).toEqual([]);
    expect(await inOrder).toEqual([1, 2, 3]);
    expect(await through).toEqual([2, 3, 4]);
    expect(await base).toEqual([1, 2, 3]);
  });

  it("a pipeline value can be branched and each branch extended independently", async () => {
    const numbers = pipe(() => range(6)).map((x) => x + 1);
    const evens = numbers.filter((x) => x % 2 === 0);
    const odds = numbers.filter((x) => x % 2 === 1);
    const evensSquared = evens.map((x) => x * x);

    expect(await evensSquared).toEqual([4, 16, 36]);
    expect(await odds).toEqual([1, 3, 5]);
    expect(await evens).toEqual([2, 4, 6]);
    expect(await numbers).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("the user's source array is neither mutated nor copied into the result", async () => {
    const source = [3, 1, 2];
    const result = await pipe(source).map((x) => x);
    expect(source).toEqual([3, 1, 2]);
    expect(result).not.toBe(source);
    result.push(99);
    expect(await pipe(source)).toEqual([3, 1, 2]);
  });
});

describe("pipe(source, ...ops) and through()", () => {
  const double = async (x: number) => {
    await sleep((x * 7) % 3);
    return x * 2;
  };
  const keepMultiplesOf3 = (x: number) => x % 3 === 0;
  const twice = (x: number) => [x, x + 1];

  it("give the same elements, in the same order after ordered(), as the method chain", async () => {
    const chain = pipe(() => range(30))
      .map(double, { workers: 3 })
      .filter(keepMultiplesOf3, { workers: 2 })
      .flatMap(twice)
      .ordered();
    const piped = pipe(
      () => range(30),
      map(double, { workers: 3 }),
      filter(keepMultiplesOf3, { workers: 2 }),
      flatMap(twice),
      ordered(),
    );
    const through = pipe(() => range(30))
      .map(double, { workers: 3 })
      .through(filter(keepMultiplesOf3, { workers: 2 }), flatMap(twice), ordered());

    const expected = await chain;
    expect(expected).toEqual([0, 1, 6, 7, 12, 13, 18, 19, 24, 25, 30, 31, 36, 37, 42, 43, 48, 49, 54, 55]);
    expect(await piped).toEqual(expected);
    expect(await through).toEqual(expected);
  });

  it("give stages the same default names as the chain", async () => {
    const names = new Set<string>();
    const record = <T>(x: T, ctx: { stage: string }): T => {
      names.add(ctx.stage);
      return x;
    };
    await pipe([1], map(record), filter(() => true), map(record));
    await pipe([1]).through(map(record), filter(() => true), map(record));
    await pipe([1]).map(record).filter(() => true).map(record);
    expect([...names].sort()).toEqual(["map#1", "map#3"]);
  });

  it("apply more than twelve operators, and a run-time array of them, in order", async () => {
    const inc = map((x: number) => x + 1);
    const fourteen = Array.from({ length: 14 }, () => inc);
    expect(await pipe([0], ...fourteen)).toEqual([14]);
    expect(await pipe([0]).through(...fourteen)).toEqual([14]);
    const steps = [map((x: number) => x * 10), filter((x: number) => x > 10), map((x: number) => x + 1)];
    expect(await pipe([1, 2, 3], ...steps)).toEqual([21, 31]);
  });

  it("through() with no operators returns an equivalent pipeline", async () => {
    const p = pipe([1, 2, 3]);
    expect(await p.through()).toEqual([1, 2, 3]);
  });

  it("an operator is reusable across pipelines and runs", async () => {
    const inc = map((x: number) => x + 1);
    expect(await pipe([1, 2], inc)).toEqual([2, 3]);
    expect(await pipe([10], inc, inc)).toEqual([12]);
  });

  it("a custom operator (any function from pipeline to pipeline) composes like the built-in ones", async () => {
    const parse = (p: Pipeline<string>) => p.map(Number).filter((n) => !Number.isNaN(n));
    expect(await pipe(["1", "x", "2"], parse, ordered())).toEqual([1, 2]);
    expect(await pipe(["3", "y"]).through(parse)).toEqual([3]);
  });

  it("through() rejects a non-function operator with a TypeError", () => {
    const p = pipe([1]);
    expect(() => (p.through as (...ops: unknown[]) => unknown)(5)).toThrow(TypeError);
  });
});
