import { describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { deferred, range, sleep, until } from "./helpers/time.js";
import { sorted } from "./helpers/probes.js";

const jitter = async (x: number) => {
  await sleep((x * 5) % 4);
  return x * 2;
};

describe("consuming a pipeline", () => {
  const p = pipe(() => range(12)).map(jitter, { workers: 4 });
  const expected = [...range(12)].map((x) => x * 2);

  it("await gives all elements as an array", async () => {
    const result = await p;
    expect(Array.isArray(result)).toBe(true);
    expect(sorted(result)).toEqual(expected);
  });

  it("await gives the same elements as toArray()", async () => {
    expect(sorted(await p)).toEqual(sorted(await p.toArray()));
  });

  it("the pipeline is a real thenable: then() and Promise.resolve() both run it", async () => {
    const viaThen = await p.then((xs) => xs.length);
    expect(viaThen).toBe(12);
    expect(sorted(await Promise.resolve(p))).toEqual(expected);
  });

  it("then()'s rejection handler receives the run's error", async () => {
    const boom = new Error("boom");
    const caught = await pipe([1])
      .map(() => {
        throw boom;
      })
      .then(
        () => "fulfilled",
        (error: unknown) => error,
      );
    expect(caught).toBe(boom);
  });

  it("for await gives every element", async () => {
    const seen: number[] = [];
    for await (const x of p) seen.push(x);
    expect(sorted(seen)).toEqual(expected);
  });

  it("for await gives each element as soon as it is ready, before later calls finish", async () => {
    const gate = deferred();
    let call2Done = false;
    const slow = pipe([0, 1, 2]).map(
      async (x) => {
        if (x === 2) {
          await gate.promise;
          call2Done = true;
        }
        return x;
      },
      { workers: 3 },
    );
    const seen: number[] = [];
    for await (const x of slow) {
      seen.push(x);
      if (seen.length === 2) {
        expect(call2Done).toBe(false);
        expect(sorted(seen)).toEqual([0, 1]);
        gate.resolve();
      }
    }
    expect(seen).toEqual([0, 1, 2]);
  });

  it("toArray({ signal }) with a signal that never aborts gives every element", async () => {
    const controller = new AbortController();
    expect(sorted(await p.toArray({ signal: controller.signal }))).toEqual(expected);
  });

  it("run() resolves with undefined after every element went through", async () => {
    let seen = 0;
    const result = await pipe(() => range(25))
      .map(jitter, { workers: 5 })
      .each(() => {
        seen++;
      })
      .run();
    expect(result).toBeUndefined();
    expect(seen).toBe(25);
  });

  it("run() discards the elements but still runs every stage", async () => {
    const mapped: number[] = [];
    await pipe([1, 2, 3])
      .map((x) => {
        mapped.push(x);
        return x;
      })
      .run();
    expect(mapped).toEqual([1, 2, 3]);
  });

  it("await on an each() pipeline gives an empty array after the side effects ran", async () => {
    const effects: number[] = [];
    const result = await pipe([1, 2, 3]).each(async (x) => {
      await sleep(1);
      effects.push(x);
    });
    expect(result).toEqual([]);
    expect(effects).toEqual([1, 2, 3]);
  });

  it("iterate({ signal }) is an async iterable iterator that can be driven by hand", async () => {
    const controller = new AbortController();
    const iterator = pipe([1, 2]).iterate({ signal: controller.signal });
    expect(iterator[Symbol.asyncIterator]()).toBe(iterator);
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  it("iterate() works in for await", async () => {
    const seen: number[] = [];
    for await (const x of pipe(() => range(5)).iterate()) seen.push(x);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it("an empty pipeline ends every consumption form at once", async () => {
    const empty = pipe([] as number[]).map((x) => x);
    expect(await empty).toEqual([]);
    expect(await empty.toArray()).toEqual([]);
    await expect(empty.run()).resolves.toBeUndefined();
    let loops = 0;
    for await (const _ of empty) loops++;
    expect(loops).toBe(0);
  });

  it("elements are passed by reference, never copied", async () => {
    const objects = [{ n: 1 }, { n: 2 }];
    const result = await pipe(objects).filter(() => true).map((o) => o);
    expect(result[0]).toBe(objects[0]);
    expect(result[1]).toBe(objects[1]);
  });

  it("a slow consumer still receives every element exactly once", async () => {
    const seen: number[] = [];
    for await (const x of pipe(() => range(40)).map(jitter, { workers: 4, maxsize: 2 })) {
      seen.push(x);
      if (x % 10 === 0) await sleep(1);
    }
    expect(sorted(seen)).toEqual([...range(40)].map((x) => x * 2));
  });

  it("two iterators over one pipeline are independent runs", async () => {
    let calls = 0;
    const counted = pipe(() => range(3)).map((x) => {
      calls++;
      return x;
    });
    const a = counted.iterate();
    const b = counted.iterate();
    expect((await a.next()).value).toBe(0);
    expect((await b.next()).value).toBe(0);
    const rest: number[] = [];
    for await (const x of a) rest.push(x);
    for await (const x of b) rest.push(x);
    expect(rest).toEqual([1, 2, 1, 2]);
    await until(() => calls === 6, "both runs to call f three times");
  });
});
