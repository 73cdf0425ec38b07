import { describe, expect, it } from "vitest";
import { concat, map, ordered, pipe } from "@sluice/dsl";
import { deferred, range, sleep, tick, until } from "./helpers/time.js";

/** A delay that makes later elements finish before earlier ones. */
const reverseDelay = (x: number, n: number) => sleep(n - x);

describe("ordered()", () => {
  it("restores source order for results that completed out of order", async () => {
    const completion: number[] = [];
    const result = await pipe(() => range(40))
      .map(
        async (x) => {
          await sleep((x * 7) % 5);
          completion.push(x);
          return x * 10;
        },
        { workers: 8 },
      )
      .ordered();
    expect(completion).not.toEqual([...range(40)]);
    expect(result).toEqual([...range(40)].map((x) => x * 10));
  });

  it("restores order when completions arrive in exactly reverse order", async () => {
    const gates = [...range(5)].map(() => deferred());
    const p = pipe(() => range(5))
      .map(async (x) => (await gates[x]!.promise, x), { workers: 5 })
      .ordered()
      .toArray();
    await tick();
    for (let i = 4; i >= 0; i--) {
      gates[i]!.resolve();
      await tick();
    }
    expect(await p).toEqual([0, 1, 2, 3, 4]);
  });

  it("streams: the first elements arrive while a later one is still running", async () => {
    const gate = deferred();
    let slowDone = false;
    const p = pipe(() => range(8))
      .map(
        async (x) => {
          if (x === 3) {
            await gate.promise;
            slowDone = true;
          } else {
            await sleep(1);
          }
          return x;
        },
        { workers: 8 },
      )
      .ordered();
    const seen: number[] = [];
    for await (const x of p) {
      seen.push(x);
      if (x === 2) {
        // 0, 1 and 2 were emitted before element 3 finished; 4..7 wait for it.
        expect(slowDone).toBe(false);
        await sleep(5);
        expect(seen).toEqual([0, 1, 2]);
        gate.resolve();
      }
    }
    expect(seen).toEqual([...range(8)]);
  });

  it("emits an element as soon as its predecessor is emitted, without waiting for the input to end", async () => {
    const sourceGate = deferred();
    const seen: number[] = [];
    async function* source(): AsyncGenerator<number> {
      yield 0;
      yield 1;
      await sourceGate.promise;
      yield 2;
    }
    const consumed = (async () => {
      for await (const x of pipe(source).map(async (x) => (await sleep(1 - x), x), { workers: 2 }).ordered()) {
        seen.push(x);
      }
    })();
    await until(() => seen.length === 2, "the first two elements");
    expect(seen).toEqual([0, 1]);
    sourceGate.resolve();
    await consumed;
    expect(seen).toEqual([0, 1, 2]);
  });

  it("skips filtered-out elements, and does not wait on them", async () => {
    const gate = deferred();
    const p = pipe(() => range(12))
      .filter(
        async (x) => {
          if (x === 9) await gate.promise;
          else await sleep(x % 3);
          return x % 2 === 1;
        },
        { workers: 12 },
      )
      .ordered();
    const seen: number[] = [];
    for await (const x of p) {
      seen.push(x);
      if (x === 7) {
        // 0..8 all decided (evens dropped) while 9 is still deciding
        expect(seen).toEqual([1, 3, 5, 7]);
        gate.resolve();
      }
    }
    expect(seen).toEqual([1, 3, 5, 7, 9, 11]);
  });

  it("keeps each flatMap expansion in the order it was produced, parents in source order", async () => {
    const result = await pipe(() => range(6))
      .flatMap(
        async function* (x) {
          await reverseDelay(x, 6);
          yield `${x}a`;
          await sleep(x % 2);
          yield `${x}b`;
          yield `${x}c`;
        },
        { workers: 6 },
      )
      .ordered();
    expect(result).toEqual([...range(6)].flatMap((x) => [`${x}a`, `${x}b`, `${x}c`]));
  });

  it("orders nested flatMaps depth first", async () => {
    const result = await pipe([0, 1, 2])
      .flatMap(async (x) => (await reverseDelay(x, 3), [x * 10, x * 10 + 1]), { workers: 3 })
      .flatMap(async (y) => (await sleep(y % 3), [y * 10, y * 10 + 1]), { workers: 4 })
      .map(async (z) => (await sleep(z % 2), z), { workers: 4 })
      .ordered();
    expect(result).toEqual([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211]);
  });

  it("is not stalled by empty flatMap expansions", async () => {
    const result = await pipe(() => range(10))
      .flatMap(async (x) => (await sleep(x % 3), x % 3 === 0 ? [] : [x]), { workers: 4 })
      .ordered();
    expect(result).toEqual([1, 2, 4, 5, 7, 8]);
  });

  it("puts concat inputs in argument order", async () => {
    const slowFirst = pipe([1, 2, 3]).map(async (x) => (await sleep(4), x), { workers: 3 });
    const fast = pipe(["a", "b"]);
    const medium = pipe([true, false]).map(async (x) => (await sleep(1), x));
    expect(await concat(slowFirst, fast, medium).ordered()).toEqual([1, 2, 3, "a", "b", true, false]);
  });

  it("orders flatMap children inside concat inputs", async () => {
    const a = pipe([1, 2]).flatMap(async (x) => (await sleep(3 - x), [x, -x]), { workers: 2 });
    const b = pipe([3]).flatMap((x) => [x, -x]);
    expect(await concat(a, b).ordered()).toEqual([1, -1, 2, -2, 3, -3]);
  });

  it("works as an operator the same as the method", async () => {
    const work = map(async (x: number) => (await sleep((x * 3) % 4), x), { workers: 5 });
    const viaOperator = await pipe(() => range(15), work, ordered());
    const viaMethod = await pipe(() => range(15)).through(work).ordered();
    expect(viaOperator).toEqual([...range(15)]);
    expect(viaMethod).toEqual(viaOperator);
  });

  it("a second ordered() and workers: 1 stages after it keep the order", async () => {
    const result = await pipe(() => range(10))
      .map(async (x) => (await sleep(x % 4), x), { workers: 4 })
      .ordered()
      .map(async (x) => (await sleep(x % 2), x * 2))
      .ordered();
    expect(result).toEqual([...range(10)].map((x) => x * 2));
  });

  it("orders after an unordered stage that follows an earlier ordered()", async () => {
    const result = await pipe(() => range(10))
      .ordered()
      .map(async (x) => (await sleep((10 - x) % 4), x), { workers: 5 })
      .filter((x) => x !== 4, { workers: 2 })
      .ordered();
    expect(result).toEqual([0, 1, 2, 3, 5, 6, 7, 8, 9]);
  });

  it("of an each() pipeline is empty", async () => {
    expect(await pipe([1, 2]).each(() => undefined).ordered()).toEqual([]);
  });

  it("of an empty source is empty", async () => {
    expect(await pipe([] as number[]).map((x) => x, { workers: 3 }).ordered()).toEqual([]);
  });
});
