/**
 * The `telemetry` run option costs nothing when absent (docs/design.md §21): for random chains,
 * sources and consumers, a run without it never reaches the tracing machinery (no run
 * tracing, no wrapped `f`, no batch taps), and a run with a counting telemetry gives the same
 * results and opens and ends exactly one span per call of `f`.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type CallOutcome, type Pipeline, type RunOptions, type Telemetry } from "@sluice/dsl";
// The modules @sluice/dsl runs on (the workspace links @sluice/core to packages/core).
import { RunTracing } from "../../packages/core/dist/run/run-tracing.js";
// itemOf is @internal, so not in the declarations.
import { CallContext } from "../../packages/core/dist/run/stage-info.js";
import { CallLog, addStage, arrayChain, sorted, sourceKindArb, sourceOf, stageArb, type StageSpec } from "../reliability/support.js";

/** A telemetry that counts what it is asked, and checks that each span it opened ends once. */
class CountingTelemetry implements Telemetry<number> {
  runs = 0;
  started = 0;
  ended = 0;
  endedTwice = 0;
  batches = 0;
  runsEnded = 0;
  readonly outcomes: CallOutcome[] = [];
  readonly #open = new Set<number>();

  runStarted(): number {
    return -++this.runs;
  }
  callStarted(): number {
    const span = ++this.started;
    this.#open.add(span);
    return span;
  }
  within<A extends unknown[], R>(_span: number, fn: (...args: A) => R, ...args: A): R {
    return fn(...args);
  }
  callEnded(span: number, outcome: CallOutcome): void {
    if (!this.#open.delete(span)) this.endedTwice++;
    this.ended++;
    this.outcomes.push(outcome);
  }
  batchEmitted(): number {
    return 1_000_000 + ++this.batches;
  }
  runEnded(): void {
    this.runsEnded++;
  }
}

const TRACING_METHODS = ["traced", "reporter", "finish", "linkOf", "batchEmitted"] as const;
let spies: { mock: { calls: unknown[] } }[] = [];
beforeEach(() => {
  spies = [...TRACING_METHODS.map((name) => vi.spyOn(RunTracing.prototype, name)), vi.spyOn(CallContext as unknown as { itemOf(ctx: unknown): unknown }, "itemOf")];
});
afterEach(() => vi.restoreAllMocks());
const tracingCalls = (): number => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);

const valuesArb = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 25 });

function build(source: Pipeline<number>, stages: readonly StageSpec[], log: CallLog, batchAt: number): Pipeline<number> {
  let pipeline = source;
  stages.forEach((spec, i) => {
    pipeline = addStage(pipeline, spec, i, log);
    if (i === batchAt) pipeline = pipeline.batch(3).flat();
  });
  return pipeline;
}

/** Every way of consuming that takes run options, and gives the elements. */
const consumers = {
  toArray: (pipeline: Pipeline<number>, options: RunOptions) => pipeline.toArray(options),
  toResult: async (pipeline: Pipeline<number>, options: RunOptions) => (await pipeline.toResult(options)).results,
  iterate: async (pipeline: Pipeline<number>, options: RunOptions) => {
    const out: number[] = [];
    for await (const x of pipeline.iterate(options)) out.push(x);
    return out;
  },
  toReadableStream: async (pipeline: Pipeline<number>, options: RunOptions) => {
    const out: number[] = [];
    for await (const x of pipeline.toReadableStream(options)) out.push(x);
    return out;
  },
  run: async (pipeline: Pipeline<number>, options: RunOptions) => {
    const out: number[] = [];
    await pipeline.each((x) => void out.push(x)).run(options);
    return out;
  },
};
const consumerArb = fc.constantFrom(...(Object.keys(consumers) as (keyof typeof consumers)[]));

const callsIn = (log: CallLog): number => log.perStage.reduce((sum, calls) => sum + [...calls.values()].reduce((n, values) => n + values.length, 0), 0);

describe("telemetry unused", () => {
  it("a run without telemetry never reaches the tracing machinery; with it, one span per call, each ended once", async () => {
    await fc.assert(
      fc.asyncProperty(
        valuesArb,
        fc.array(stageArb(), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: -1, max: 2 }),
        sourceKindArb,
        consumerArb,
        async (values, stages, batchAt, sourceKind, consumer) => {
          const expected = sorted(arrayChain(values, stages));
          const before = tracingCalls();
          const plain = await consumers[consumer](build(sourceOf(values, sourceKind), stages, new CallLog(stages.length), batchAt), {});
          expect(sorted(plain)).toEqual(expected);
          expect(tracingCalls()).toBe(before);

          // flat() after the batch is a stage with a call per batch; run() adds an each() with one per element.
          const batches = batchAt < stages.length && batchAt >= 0 ? Math.ceil(arrayChain(values, stages.slice(0, batchAt + 1)).length / 3) : 0;
          const extraCalls = batches + (consumer === "run" ? expected.length : 0);
          const telemetry = new CountingTelemetry();
          const log = new CallLog(stages.length);
          const traced = await consumers[consumer](build(sourceOf(values, sourceKind), stages, log, batchAt), { telemetry });
          expect(sorted(traced)).toEqual(expected);
          expect(tracingCalls()).toBeGreaterThan(before);
          expect(telemetry).toMatchObject({ runs: 1, runsEnded: 1, batches, started: callsIn(log) + extraCalls, ended: telemetry.started, endedTwice: 0 });
          expect(telemetry.outcomes.every((outcome) => outcome === "ok")).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});
