/**
 * Property tests of RunStats (docs/behaviour.md §12, docs/design.md §18): over random chains
 * of map/filter/flatMap/each/ordered/batch with random workers, queues, delays, failures,
 * timeouts and ways of consuming, every snapshot `onProgress` receives keeps each stage's
 * identity `taken = inFlight + done + skipped + failed + cancelled`, stays within the stage's
 * bounds and never goes backwards; exactly one final snapshot comes last, before the consumer
 * learns the outcome, with nothing in flight; and a run that ends well accounts for every
 * element from the source to the consumer.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ElementErrors, pipe, type Pipeline, type RunStats, type StageStats } from "@sluice/dsl";
import { UnhandledRejections, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

type Delay = "sync" | "micro" | "timer";

interface Step {
  readonly kind: "map" | "filter" | "flatMap" | "each" | "ordered" | "batch";
  readonly workers: number;
  readonly maxsize: number;
  readonly delay: Delay;
  /** Timer delays in ms, used in turn by successive calls. */
  readonly delays: readonly number[];
  /** flatMap: most children; filter: the modulus; batch: the size. */
  readonly param: number;
  /** A timeout (with onTimeout "skip" or "error") shorter than some timer delays, or none. */
  readonly timeout: { readonly ms: number; readonly policy: "skip" | "error" } | undefined;
  /** What a failure of f does once retries are used up (docs/behaviour.md §10). */
  readonly onError: "fail" | "skip" | "collect";
  /** Retries of a failed call, 1 ms apart. */
  readonly retries: number;
  /** Whether the injected failure happens on the first attempt only (a retry then succeeds). */
  readonly flaky: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom("map", "filter", "flatMap", "each", "ordered", "batch"),
  workers: fc.integer({ min: 1, max: 4 }),
  maxsize: fc.integer({ min: 0, max: 4 }),
  delay: fc.constantFrom("sync", "micro", "timer"),
  delays: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
  param: fc.integer({ min: 1, max: 3 }),
  timeout: fc.option(fc.record({ ms: fc.integer({ min: 3, max: 5 }), policy: fc.constantFrom("skip", "error") }), { nil: undefined }),
  onError: fc.constantFrom("fail", "skip", "collect"),
  retries: fc.integer({ min: 0, max: 2 }),
  flaky: fc.boolean(),
});

type Consumer = "toArray" | "run" | "iterate" | "break" | "abort";
const consumerArb: fc.Arbitrary<Consumer> = fc.constantFrom("toArray", "run", "iterate", "break", "abort");

class Boom extends Error {}

interface Built {
  readonly pipeline: Pipeline<unknown>;
  /** The worker and batch stages, in chain order, as the stats list them. */
  readonly stages: readonly Step[];
}

/** Builds the chain; `failAt` (stage position, value) makes that stage's f throw for that value. */
function build(values: readonly number[], steps: readonly Step[], failAt: readonly [number, number] | undefined): Built {
  let p: Pipeline<unknown> = pipe(values);
  const stages: Step[] = [];
  steps.forEach((step, i) => {
    let calls = 0;
    const wait = (): Promise<void> | undefined => {
      const n = calls++;
      return step.delay === "sync" ? undefined : step.delay === "micro" ? Promise.resolve() : sleep(step.delays[n % step.delays.length]!);
    };
    const run = <R>(x: unknown, attempt: number, result: () => R): R | Promise<R> => {
      if (failAt !== undefined && failAt[0] === i && x === failAt[1] && (!step.flaky || attempt === 1)) throw new Boom(`stage ${i}`);
      const w = wait();
      return w === undefined ? result() : w.then(result);
    };
    const options = {
      workers: step.workers,
      maxsize: step.maxsize,
      ...(step.timeout === undefined ? {} : { timeout: step.timeout.ms, onTimeout: step.timeout.policy }),
      onError: step.onError,
      ...(step.retries === 0 ? {} : { retry: { retries: step.retries, minDelay: 1, jitter: "none" as const } }),
    };
    const num = (x: unknown): number => (Array.isArray(x) ? x.length : (x as number));
    switch (step.kind) {
      case "map":
        p = p.map((x, ctx) => run(x, ctx.attempt, () => num(x) + 1), options);
        break;
      case "filter":
        p = p.filter((x, ctx) => run(x, ctx.attempt, () => num(x) % (step.param + 1) !== 0), options);
        break;
      case "flatMap":
        p = p.flatMap((x, ctx) => run(x, ctx.attempt, () => Array.from({ length: num(x) % (step.param + 1) }, (_, k) => num(x) + k)), options);
        break;
      case "each":
        // each emits nothing; a map after it keeps the chain going for the next steps.
        p = p.each((x, ctx) => run(x, ctx.attempt, () => undefined), options);
        break;
      case "ordered":
        p = p.ordered();
        return;
      case "batch":
        p = p.batch(step.param + 1);
        break;
    }
    stages.push(step);
  });
  return { pipeline: p, stages };
}

function checkStage(s: StageStats, step: Step): void {
  expect(s.taken).toBe(s.inFlight + s.done + s.skipped + s.failed + s.cancelled);
  for (const value of Object.values(s)) if (typeof value === "number") expect(value).toBeGreaterThanOrEqual(0);
  // Each element is retried at most `retries` times.
  expect(s.retried).toBeLessThanOrEqual(step.kind === "batch" ? 0 : step.retries * s.taken);
  if (step.kind === "batch") {
    expect(s.kind).toBe("batch");
    expect(s.waiting).toBe(0);
    // The batch being filled plus one held for a full downstream.
    expect(s.inFlight).toBeLessThanOrEqual(2 * (step.param + 1));
  } else {
    expect(s.kind).toBe(step.kind);
    expect(s.inFlight).toBeLessThanOrEqual(step.workers);
    if (step.timeout === undefined) expect(s.timedOut).toBe(0);
    if (step.timeout?.policy !== "skip" && step.onError === "fail") expect(s.skipped).toBe(0);
    if (step.onError === "fail") expect(s.skipped).toBeLessThanOrEqual(s.timedOut);
  }
  if (step.kind === "map") expect(s.emitted).toBe(s.done);
  if (step.kind === "filter") expect(s.emitted + s.dropped).toBe(s.done);
  if (step.kind === "each") expect(s.emitted).toBe(0);
  if (step.kind !== "filter") expect(s.dropped).toBe(0);
}

const MONOTONE = ["taken", "done", "emitted", "dropped", "skipped", "failed", "cancelled", "timedOut"] as const;

function checkProgression(before: RunStats, after: RunStats): void {
  expect(after.elapsedMs).toBeGreaterThanOrEqual(before.elapsedMs);
  expect(after.source.pulled).toBeGreaterThanOrEqual(before.source.pulled);
  expect(after.delivered).toBeGreaterThanOrEqual(before.delivered);
  after.stages.forEach((s, i) => {
    for (const key of MONOTONE) expect(s[key]).toBeGreaterThanOrEqual(before.stages[i]![key]);
  });
}

async function consume(pipeline: Pipeline<unknown>, consumer: Consumer, onProgress: (s: RunStats) => void): Promise<unknown[]> {
  const options = { onProgress, progressInterval: 1 };
  switch (consumer) {
    case "toArray":
      return pipeline.toArray(options);
    case "run":
      await pipeline.run(options);
      return [];
    case "iterate": {
      const out: unknown[] = [];
      for await (const x of pipeline.iterate(options)) out.push(x);
      return out;
    }
    case "break": {
      const out: unknown[] = [];
      for await (const x of pipeline.iterate(options)) {
        out.push(x);
        if (out.length === 2) break;
      }
      return out;
    }
    case "abort": {
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Boom("aborted")), 4);
      return pipeline.toArray({ ...options, signal: controller.signal });
    }
  }
}

describe("RunStats over random chains", () => {
  it("every snapshot keeps the identity and the bounds; the last one is final; a run that ends well accounts for every element", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 25 }),
        fc.array(stepArb, { minLength: 1, maxLength: 4 }),
        consumerArb,
        fc.option(fc.tuple(fc.nat(3), fc.integer({ min: 0, max: 50 })), { nil: undefined }),
        async (values, steps, consumer, failAt) => {
          const { pipeline, stages } = build(values, steps, failAt);
          const seen: RunStats[] = [];
          let settled = false;
          let calledAfterSettle = false;
          const onProgress = (stats: RunStats): void => {
            if (settled) calledAfterSettle = true;
            seen.push(stats);
          };
          let outcome: "done" | "failed" | "aborted";
          let output: unknown[] = [];
          let collected = false;
          try {
            output = await consume(pipeline, consumer, onProgress);
            outcome = consumer === "break" && output.length === 2 ? "aborted" : "done";
          } catch (error) {
            // Failures collected by onError "collect" reach the consumer after a run that went to its end.
            outcome = error instanceof ElementErrors ? "done" : error instanceof Boom && error.message === "aborted" ? "aborted" : "failed";
            if (error instanceof ElementErrors) {
              collected = true;
              output = error.results;
            }
          }
          settled = true;
          const count = seen.length;
          await sleep(3);
          expect(calledAfterSettle).toBe(false);
          expect(seen.length).toBe(count);

          // The last call is the final one, and only it.
          expect(seen.length).toBeGreaterThanOrEqual(1);
          const last = seen.at(-1)!;
          seen.slice(0, -1).forEach((s) => expect(s.state === "running" || s.state === last.state).toBe(true));
          // A break after the end arrived is not an abort: the run had already ended.
          if (!(consumer === "break" && last.state === "done")) expect(last.state).toBe(outcome);
          for (const stats of seen) {
            expect(Object.isFrozen(stats)).toBe(true);
            expect(stats.stages.length).toBe(stages.length);
            stats.stages.forEach((s, i) => checkStage(s, stages[i]!));
            expect(stats.source.total).toBe(values.length);
            expect(stats.source.pulled).toBeLessThanOrEqual(values.length);
          }
          for (let i = 1; i < seen.length; i++) checkProgression(seen[i - 1]!, seen[i]!);

          // Final figures: nothing waits or runs any more.
          for (const s of last.stages) {
            expect(s.inFlight).toBe(0);
            expect(s.waiting).toBe(0);
          }
          if (last.state === "failed" && failAt !== undefined && outcome === "failed") {
            expect(last.stages.reduce((n, s) => n + s.failed, 0)).toBeGreaterThanOrEqual(1);
          }
          if (last.state === "done") {
            // Every element accounted for, from the source through each stage to the consumer.
            expect(last.source.pulled).toBe(values.length);
            let arriving = values.length;
            last.stages.forEach((s) => {
              expect(s.taken).toBe(arriving);
              expect(s.cancelled + s.failed).toBe(0);
              expect(s.done + s.skipped).toBe(s.taken);
              arriving = s.emitted;
            });
            expect(last.delivered).toBe(arriving);
            // A for await loop that ends with collected failures throws them instead of returning its values.
            if (consumer !== "run" && consumer !== "break" && !(collected && consumer === "iterate")) expect(output.length).toBe(arriving);
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(unhandled.count).toBe(0);
  });
});
