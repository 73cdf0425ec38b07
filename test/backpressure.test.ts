import { describe, expect, it } from "vitest";
import { defaultMaxsize, pipe, type Pipeline } from "@sluice/dsl";
import { CountingSource, sorted } from "./helpers/probes.js";
import { deferred, range, sleep, until } from "./helpers/time.js";

interface StageShape {
  readonly workers: number;
  readonly maxsize?: number;
  readonly async?: boolean;
}

/** docs/behaviour.md §4: k + Σ(workers + maxsize) + maxsize_last + (number of stages). */
function pullBound(k: number, stages: readonly StageShape[]): number {
  const sizes = stages.map((s) => s.maxsize ?? defaultMaxsize(s.workers));
  const sum = stages.reduce((acc, s, i) => acc + s.workers + sizes[i]!, 0);
  return k + sum + sizes[sizes.length - 1]! + stages.length;
}

/** A chain of 1:1 stages (map, filter keeping everything, flatMap of one) with the given shapes. */
function chain(source: CountingSource, stages: readonly StageShape[]): Pipeline<number> {
  let p: Pipeline<number> = pipe(source);
  stages.forEach((shape, i) => {
    const options = shape.maxsize === undefined ? { workers: shape.workers } : { workers: shape.workers, maxsize: shape.maxsize };
    const kind = i % 3;
    if (kind === 0) p = p.map(shape.async ? async (x) => (await sleep(1), x) : (x) => x, options);
    else if (kind === 1) p = p.filter(shape.async ? async () => (await sleep(1), true) : () => true, options);
    else p = p.flatMap(shape.async ? async (x) => (await sleep(1), [x]) : (x) => [x], options);
  });
  return p;
}

describe("the pull bound (docs/behaviour.md §4)", () => {
  const shapes: ReadonlyArray<readonly [string, readonly StageShape[]]> = [
    ["one sync stage, tiny queues", [{ workers: 1, maxsize: 1 }]],
    ["three sync stages", [{ workers: 2, maxsize: 3 }, { workers: 3, maxsize: 2 }, { workers: 1, maxsize: 4 }]],
    ["three async stages", [{ workers: 4, maxsize: 2, async: true }, { workers: 2, maxsize: 5, async: true }, { workers: 3, maxsize: 1, async: true }]],
    ["default maxsize", [{ workers: 4 }, { workers: 1, async: true }]],
    ["a last stage with a large queue", [{ workers: 2, maxsize: 1 }, { workers: 1, maxsize: 20 }]],
  ];

  it.each(shapes)("an infinite source with a slow consumer is pulled at most k + Σ(workers + maxsize) + maxsize_last + stages times (%s)", async (_name, stages) => {
    const source = new CountingSource();
    let k = 0;
    let maxAhead = 0;
    for await (const x of chain(source, stages)) {
      expect(x).toBeGreaterThanOrEqual(0);
      k++;
      await sleep(2); // a slow consumer: the pipeline fills up meanwhile
      expect(source.pulls).toBeLessThanOrEqual(pullBound(k, stages));
      maxAhead = Math.max(maxAhead, source.pulls - k);
      if (k === 40) break;
    }
    expect(k).toBe(40);
    // It really ran ahead of the consumer (concurrency), within the bound.
    const totalWorkers = stages.reduce((acc, s) => acc + s.workers, 0);
    expect(maxAhead).toBeGreaterThanOrEqual(totalWorkers);
    expect(source.finallyRan).toBe(1);
  });

  it("the bound also holds with ordered() at the end", async () => {
    const stages = [{ workers: 3, maxsize: 2, async: true }, { workers: 1, maxsize: 3 }];
    const source = new CountingSource();
    let k = 0;
    const seen: number[] = [];
    for await (const x of chain(source, stages).ordered()) {
      seen.push(x);
      k++;
      await sleep(2);
      expect(source.pulls).toBeLessThanOrEqual(pullBound(k, stages));
      if (k === 30) break;
    }
    expect(seen).toEqual([...range(30)]);
  });

  it("memory stays constant: the lead of the source over the consumer does not grow over a long run", async () => {
    const stages = [{ workers: 2, maxsize: 2 }];
    const source = new CountingSource();
    const leads: number[] = [];
    let k = 0;
    for await (const _ of chain(source, stages)) {
      k++;
      if (k % 50 === 0) {
        await sleep(2);
        leads.push(source.pulls - k);
      }
      if (k === 500) break;
    }
    expect(leads).toHaveLength(10);
    expect(Math.max(...leads)).toBeLessThanOrEqual(pullBound(0, stages));
  });
});

describe("backpressure", () => {
  it("a stage whose calls are stuck stops pulling once workers + maxsize elements are in it", async () => {
    const gate = deferred();
    const source = new CountingSource();
    const run = pipe(source)
      .map(
        async (x) => {
          await gate.promise;
          return x;
        },
        { workers: 2, maxsize: 3 },
      )
      .iterate();
    const first = run.next();
    await until(() => source.pulls >= 5, "the stage to fill");
    await sleep(10);
    expect(source.pulls).toBeGreaterThanOrEqual(2 + 3);
    expect(source.pulls).toBeLessThanOrEqual(2 + 3 + 1);
    gate.resolve();
    expect((await first).done).toBe(false);
    await run.return?.();
  });

  it("backpressure reaches the source through every stage", async () => {
    const gate = deferred();
    const source = new CountingSource();
    const controller = new AbortController();
    const run = pipe(source)
      .map((x) => x, { workers: 1, maxsize: 2 })
      .filter(() => true, { workers: 3, maxsize: 1 })
      .each(() => gate.promise, { workers: 2, maxsize: 2 })
      .run({ signal: controller.signal });
    await until(() => source.pulls >= 2 + 2, "the last stage to fill");
    await sleep(10);
    expect(source.pulls).toBeLessThanOrEqual(1 + 2 + (3 + 1) + (2 + 2) + 3);
    const reason = new Error("enough");
    controller.abort(reason);
    gate.resolve();
    await expect(run).rejects.toBe(reason);
    expect(source.finallyRan).toBe(1);
  });

  it("maxsize: 0 is unbounded: a stuck stage lets the whole finite source in", async () => {
    const gate = deferred();
    let pulls = 0;
    function* source(): Generator<number> {
      for (let i = 0; i < 300; i++) {
        pulls++;
        yield i;
      }
    }
    const result = pipe(source)
      .map(
        async (x) => {
          await gate.promise;
          return x;
        },
        { workers: 1, maxsize: 0 },
      )
      .toArray();
    await until(() => pulls === 300, "every element to be pulled");
    gate.resolve();
    expect(sorted(await result)).toEqual([...range(300)]);
  });

  it.each([
    [1, 16],
    [20, 20],
  ])("the default maxsize for workers: %i lets %i elements wait before the source is paused", async (workers, maxsize) => {
    expect(defaultMaxsize(workers)).toBe(maxsize);
    const gate = deferred();
    const source = new CountingSource();
    const iterator = pipe(source)
      .map(
        async (x) => {
          await gate.promise;
          return x;
        },
        { workers },
      )
      .iterate();
    const first = iterator.next();
    await until(() => source.pulls >= workers + maxsize, "the stage to fill");
    await sleep(10);
    expect(source.pulls).toBeLessThanOrEqual(workers + maxsize + 1);
    gate.resolve();
    await first;
    await iterator.return?.();
  });

  it.each([2, 5, 12])("the consumer-side buffer of for await is the last stage's maxsize (%i)", async (maxsize) => {
    // A sync last stage holds nothing itself: with the consumer idle, what is pulled beyond
    // the one element taken is its full input queue plus the full consumer buffer.
    const source = new CountingSource();
    const iterator = pipe(source).map((x) => x, { workers: 1, maxsize }).iterate();
    expect((await iterator.next()).value).toBe(0);
    await sleep(10);
    const extra = source.pulls - 1;
    expect(extra).toBeGreaterThanOrEqual(2 * maxsize);
    expect(extra).toBeLessThanOrEqual(2 * maxsize + 2);
    await iterator.return?.();
    expect(source.finallyRan).toBe(1);
  });
});
