/**
 * Property tests (docs/behaviour.md §3, §4, §6): for random sources, chains of map/filter/flatMap, workers,
 * maxsize and delays (synchronous, microtask, timer and mixed), sluice gives what the Array
 * methods give, calls each stage's `f` once per element, keeps order where promised, and never
 * pulls the source beyond the pull bound (docs/behaviour.md §4).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concat, map, pipe, type Operator, type Pipeline } from "@sluice/dsl";
import {
  CallLog,
  UnhandledRejections,
  addStage,
  arrayChain,
  checkCalls,
  consume,
  consumerKindArb,
  macrotask,
  model,
  sleep,
  sorted,
  sourceKindArb,
  sourceOf,
  stageArb,
  type StageSpec,
} from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const valuesArb = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 30 });

function build(source: Pipeline<number>, stages: readonly StageSpec[], log: CallLog, workers?: number): Pipeline<number> {
  let pipeline = source;
  stages.forEach((spec, i) => {
    pipeline = addStage(pipeline, spec, i, log, workers === undefined ? {} : { workers });
  });
  return pipeline;
}

describe("results", () => {
  it("the output equals the Array method chain as a multiset, and each element reaches each stage's f exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.array(stageArb(), { minLength: 1, maxLength: 4 }),
        sourceKindArb,
        consumerKindArb,
        async (values, stages, sourceKind, consumer) => {
          const log = new CallLog(stages.length);
          const output = await consume(build(sourceOf(values, sourceKind), stages, log), consumer);
          expect(sorted(output)).toEqual(sorted(arrayChain(values, stages)));
          expect(checkCalls(log, model(values, stages).inputs)).toBeUndefined();
          expect(log.startedAfterAbort).toBe(0);
        },
      ),
      { numRuns: 120 },
    );
    expect(unhandled.count).toBe(0);
  });

  it("operator form pipe(source, map(), ...) gives the same as the method chain", async () => {
    await fc.assert(
      fc.asyncProperty(valuesArb, fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }), async (values, addends) => {
        const ops: Operator<number, number>[] = addends.map((a) =>
          map((x: number) => (a % 2 === 0 ? x + a : Promise.resolve(x + a)), { workers: 1 + (a % 3) }),
        );
        const [a, b, c, d] = ops;
        const output =
          ops.length === 1
            ? await pipe(values, a!)
            : ops.length === 2
              ? await pipe(values, a!, b!)
              : ops.length === 3
                ? await pipe(values, a!, b!, c!)
                : await pipe(values, a!, b!, c!, d!);
        const sum = addends.reduce((s, x) => s + x, 0);
        expect(sorted(output)).toEqual(sorted(values.map((v) => v + sum)));
      }),
      { numRuns: 40 },
    );
  });
});

describe("ordering", () => {
  it("with workers: 1 in every stage, the output is the Array chain in exact order", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.array(stageArb(), { minLength: 1, maxLength: 4 }),
        sourceKindArb,
        consumerKindArb,
        async (values, stages, sourceKind, consumer) => {
          const log = new CallLog(stages.length);
          const output = await consume(build(sourceOf(values, sourceKind), stages, log, 1), consumer);
          expect(output).toEqual(arrayChain(values, stages));
        },
      ),
      { numRuns: 80 },
    );
  });

  it("ordered() restores the Array chain's exact order, also mid-chain followed by workers: 1 stages", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.array(stageArb(), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        sourceKindArb,
        consumerKindArb,
        async (values, stages, cut, sourceKind, consumer) => {
          // Stages before `at` run with random workers; ordered() follows them; the rest use one worker.
          const at = 1 + (cut % stages.length);
          const log = new CallLog(stages.length);
          let pipeline = build(sourceOf(values, sourceKind), stages.slice(0, at), log).ordered();
          stages.slice(at).forEach((spec, j) => {
            pipeline = addStage(pipeline, spec, at + j, log, { workers: 1 });
          });
          const output = await consume(pipeline, consumer);
          expect(output).toEqual(arrayChain(values, stages));
          expect(checkCalls(log, model(values, stages).inputs)).toBeUndefined();
        },
      ),
      { numRuns: 80 },
    );
  });

  it("ordered() after concat gives every input's elements in argument order", async () => {
    const inputArb = fc.record({
      values: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 12 }),
      stages: fc.array(stageArb(), { minLength: 0, maxLength: 2 }),
      sourceKind: sourceKindArb,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(inputArb, { minLength: 1, maxLength: 3 }), consumerKindArb, async (inputs, consumer) => {
        const branches = inputs.map((input) => build(sourceOf(input.values, input.sourceKind), input.stages, new CallLog(input.stages.length)));
        const output = await consume(concat(...branches).ordered(), consumer);
        expect(output).toEqual(inputs.flatMap((input) => arrayChain(input.values, input.stages)));
      }),
      { numRuns: 40 },
    );
  });
});

describe("broadcast", () => {
  it("a pipeline used in several branches of one graph runs once per run, and every branch receives each of its elements", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.array(stageArb(), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 2, max: 3 }),
        sourceKindArb,
        consumerKindArb,
        async (values, stages, branches, sourceKind, consumer) => {
          const log = new CallLog(stages.length);
          const shared = build(sourceOf(values, sourceKind), stages, log);
          const inputs = Array.from({ length: branches }, (_, b) => shared.map((x) => x * 10 + b, { workers: 1 + b }));
          const output = await consume(concat(...inputs), consumer);
          const expected = arrayChain(values, stages);
          expect(sorted(output)).toEqual(sorted(inputs.flatMap((_, b) => expected.map((x) => x * 10 + b))));
          expect(checkCalls(log, model(values, stages).inputs)).toBeUndefined();
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("flow control", () => {
  // Stages whose element counts match one to one, so "k taken" maps to source positions.
  const oneToOne = (spec: StageSpec, i: number, log: CallLog, p: Pipeline<number>): Pipeline<number> => {
    const options = { workers: spec.workers, maxsize: spec.maxsize };
    const wait = (call: number): Promise<void> | undefined =>
      spec.delay === "sync" || (spec.delay === "mixed" && call % 2 === 0)
        ? undefined
        : spec.delay === "micro"
          ? Promise.resolve()
          : sleep(spec.delays[call % spec.delays.length]!);
    let calls = 0;
    const step = <R>(x: number, index: readonly number[], signal: AbortSignal, result: () => R): R | Promise<R> => {
      log.record(i, index, x, signal);
      const w = wait(calls++);
      return w === undefined ? result() : w.then(result);
    };
    switch (spec.kind) {
      case "map":
        return p.map((x, ctx) => step(x, ctx.index, ctx.signal, () => x), options);
      case "filter":
        return p.filter((x, ctx) => step(x, ctx.index, ctx.signal, () => true), options);
      case "flatMap":
        return p.flatMap((x, ctx) => step(x, ctx.index, ctx.signal, () => [x]), options);
    }
  };

  it("after the consumer takes k elements the source has been pulled at most k + Σ(workers + maxsize) + maxsize_last + stages times", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stageArb(["map", "filter", "flatMap"], fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 25 }),
        fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 3 }),
        async (stages, asyncSource, take, stallAt) => {
          let pulls = 0;
          let returned = false;
          let pullsAfterReturn = 0;
          // An endless source: only backpressure keeps it from being read forever.
          const next = (): IteratorResult<number> => {
            if (returned) pullsAfterReturn++;
            return { done: false, value: pulls++ };
          };
          const done = (): IteratorResult<number> => {
            returned = true;
            return { done: true, value: undefined };
          };
          const source: Iterable<number> | AsyncIterable<number> = asyncSource
            ? { [Symbol.asyncIterator]: () => ({ next: async () => next(), return: async () => done() }) }
            : { [Symbol.iterator]: () => ({ next, return: done }) };
          const log = new CallLog(stages.length);
          let pipeline = pipe(source);
          stages.forEach((spec, i) => {
            pipeline = oneToOne(spec, i, log, pipeline);
          });
          const bound =
            stages.reduce((sum, s) => sum + s.workers + s.maxsize, 0) + stages[stages.length - 1]!.maxsize + stages.length;
          const violations: string[] = [];
          const check = (k: number, when: string): void => {
            if (pulls > k + bound) violations.push(`${when}: ${pulls} pulls after ${k} taken (bound ${k} + ${bound})`);
          };
          let taken = 0;
          const seen = new Set<number>();
          if (take > 0) {
            for await (const x of pipeline) {
              expect(seen.has(x)).toBe(false);
              seen.add(x);
              taken++;
              check(taken, "on arrival");
              if (stallAt.includes(taken)) {
                // A slow consumer: let every stage run as far ahead as it may.
                await macrotask();
                await sleep(3);
                await macrotask();
                check(taken, "after a stall");
              }
              if (taken >= take) break;
            }
          }
          check(taken, "after break");
          expect(violations).toEqual([]);
          expect(pullsAfterReturn).toBe(0);
          if (take > 0) expect(returned).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it("an endless source with a consumer that never reads keeps being pulled at most the bound", async () => {
    let pulls = 0;
    const source = {
      [Symbol.iterator]: () => ({ next: (): IteratorResult<number> => ({ done: false, value: pulls++ }) }),
    };
    const iterator = pipe(source)
      .map((x) => x, { workers: 3, maxsize: 2 })
      .map(async (x) => x, { workers: 2, maxsize: 4 })
      .iterate();
    expect(await iterator.next()).toEqual({ done: false, value: 0 });
    await sleep(20);
    // k = 1, Σ(workers + maxsize) = 5 + 6, maxsize_last = 4, stages = 2
    expect(pulls).toBeLessThanOrEqual(1 + 11 + 4 + 2);
    await iterator.return!();
  });
});
