import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { concat, pipe } from "@sluice/dsl";
import { CountingSource, asyncTicker, sorted } from "./helpers/probes.js";
import { deferred, range, sleep, until } from "./helpers/time.js";

const byString = (xs: readonly unknown[]) => xs.map(String).sort();

describe("concat()", () => {
  it("merges every kind of source, and ordered() gives them in argument order", async () => {
    async function* letters(): AsyncGenerator<string> {
      yield "a";
      await sleep(1);
      yield "b";
    }
    const stream = () =>
      new ReadableStream<string>({
        start(controller) {
          controller.enqueue("rs");
          controller.close();
        },
      });
    const merged = concat(
      pipe([1, 2]).map((x) => x * 10),
      [3, 4],
      letters,
      () => Readable.from(["node"]) as AsyncIterable<string>,
      stream,
      new Set([true]),
      Promise.resolve([5]),
      async () => ["later"],
    );
    const expected = [10, 20, 3, 4, "a", "b", "node", "rs", true, 5, "later"];
    expect(byString(await merged)).toEqual(byString(expected));
    expect(await merged.ordered()).toEqual(expected);
  });

  it("passes elements on as they arrive, not input after input", async () => {
    const gate = deferred();
    const slow = pipe(async function* () {
      await gate.promise;
      yield "slow";
    });
    const seen: string[] = [];
    for await (const x of concat(slow, ["fast1", "fast2"])) {
      seen.push(x);
      if (seen.length === 2) gate.resolve();
    }
    expect(seen).toEqual(["fast1", "fast2", "slow"]);
  });

  it("with no inputs is empty; with one input equals that input", async () => {
    expect(await concat()).toEqual([]);
    expect(await concat([1, 2, 3])).toEqual([1, 2, 3]);
  });

  it("is re-runnable: each run calls every source factory again", async () => {
    let calls = 0;
    const merged = concat(() => {
      calls++;
      return [1];
    }, [2]);
    expect(sorted(await merged)).toEqual([1, 2]);
    expect(sorted(await merged)).toEqual([1, 2]);
    expect(calls).toBe(2);
  });

  it("nests: concat(concat(a, b), c).ordered() is a, b, c", async () => {
    const a = pipe([1, 2]).map(async (x) => (await sleep(3), x));
    const b = pipe([3]).map(async (x) => (await sleep(1), x));
    const c = [4, 5];
    expect(await concat(concat(a, b), c).ordered()).toEqual([1, 2, 3, 4, 5]);
  });

  it("can be extended with stages and used as a source", async () => {
    const merged = concat([1, 2], [3]).map((x) => x * 2).filter((x) => x > 2);
    expect(sorted(await merged)).toEqual([4, 6]);
    expect(sorted(await pipe(merged))).toEqual([4, 6]);
  });

  it("an error in one input fails the run with that error and closes the other inputs", async () => {
    const boom = new Error("input 1");
    const { source, state } = asyncTicker(1);
    const failing = pipe(async function* () {
      await sleep(3);
      throw boom;
    });
    await expect(concat(source, failing).toArray()).rejects.toBe(boom);
    await until(() => state.closed, "the other input's finally");
  });

  it("a break closes every input", async () => {
    const first = new CountingSource();
    const second = new CountingSource();
    let taken = 0;
    for await (const _ of concat(first, second)) {
      if (++taken === 5) break;
    }
    expect(first.finallyRan).toBe(1);
    expect(second.finallyRan).toBe(1);
  });

  it("applies backpressure to every input", async () => {
    const first = new CountingSource();
    const second = new CountingSource();
    const iterator = concat(first, second).map((x) => x, { workers: 1, maxsize: 2 }).iterate();
    await iterator.next();
    await sleep(10);
    expect(first.pulls + second.pulls).toBeLessThanOrEqual(1 + (1 + 2) + 2 + 1 + 2);
    await iterator.return?.();
  });
});

describe("broadcast of a shared pipeline", () => {
  it("a pipeline used twice in one concat runs its f once per element and both branches get every element", async () => {
    let calls = 0;
    const shared = pipe(() => range(10)).map(
      async (x) => {
        calls++;
        await sleep(x % 2);
        return x;
      },
      { workers: 3 },
    );
    const left = shared.map((x) => `L${x}`);
    const right = shared.filter(() => true).map((x) => `R${x}`);
    const result = await concat(left, right);
    expect(calls).toBe(10);
    expect(result.filter((x) => x.startsWith("L")).sort()).toEqual([...range(10)].map((x) => `L${x}`).sort());
    expect(result.filter((x) => x.startsWith("R")).sort()).toEqual([...range(10)].map((x) => `R${x}`).sort());
  });

  it("concat(shared, shared) gives each element twice and calls the source factory once per run", async () => {
    let factoryCalls = 0;
    let calls = 0;
    const shared = pipe(() => {
      factoryCalls++;
      return range(6);
    }).map((x) => {
      calls++;
      return x;
    });
    expect(await concat(shared, shared).ordered()).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect([factoryCalls, calls]).toEqual([1, 6]);
    await concat(shared, shared);
    expect([factoryCalls, calls]).toEqual([2, 12]);
  });

  it("a diamond (shared, and a stage built on shared) runs the shared part once", async () => {
    let calls = 0;
    const shared = pipe([1, 2, 3]).map((x) => {
      calls++;
      return x;
    });
    const doubled = shared.map((x) => x * 2);
    expect(await concat(shared, doubled).ordered()).toEqual([1, 2, 3, 2, 4, 6]);
    expect(calls).toBe(3);
  });

  it("the slowest branch sets the pace: a stuck branch pauses the shared source", async () => {
    const gate = deferred();
    const source = new CountingSource();
    const shared = pipe(source).map((x) => x, { workers: 1, maxsize: 2 });
    let fastSeen = 0;
    const fast = shared.map((x) => {
      fastSeen++;
      return x;
    });
    const stuck = shared.map(async (x) => (await gate.promise, x), { workers: 1, maxsize: 2 });
    const controller = new AbortController();
    const run = concat(fast, stuck).run({ signal: controller.signal });
    await until(() => source.pulls >= 3, "the pipeline to fill");
    await sleep(10);
    // stuck holds 1 + 2, the shared stage 1 + 2, plus one in hand at each step
    expect(source.pulls).toBeLessThanOrEqual(10);
    expect(fastSeen).toBeLessThanOrEqual(source.pulls);
    const pulls = source.pulls;
    await sleep(10);
    expect(source.pulls).toBe(pulls);
    controller.abort("done");
    gate.resolve();
    await expect(run).rejects.toBe("done");
    expect(source.finallyRan).toBe(1);
  });

  it("a separate run of a branch alone runs the shared part for that run only", async () => {
    let calls = 0;
    const shared = pipe([1, 2]).map((x) => {
      calls++;
      return x;
    });
    const left = shared.map((x) => -x);
    expect(await left).toEqual([-1, -2]);
    expect(calls).toBe(2);
    expect(sorted(await concat(left, shared))).toEqual([-2, -1, 1, 2]);
    expect(calls).toBe(4);
  });
});
