/**
 * Element outcomes under random chains (docs/behaviour.md §10): fast-check builds 1 to 3
 * stages of map/filter/flatMap/each, each with a random `onError` ("skip", "collect" or a
 * handler, sync or async) and 0 to 2 retries, whose `f` (sync or async) fails on a
 * deterministic pseudo-random set of (stage, element, attempt) triples, optionally ending in
 * ordered(). A model of the chain says which element ends where, and every run must agree:
 *
 * - each element is accounted for exactly once per stage: emitted, dropped (filter, each),
 *   or given up on (skipped, collected or handled), never two of these and never none;
 * - `f` is called on an element exactly as often as the model says (until an attempt
 *   succeeds, at most `retries + 1` times), with `ctx.attempt` 1, 2, 3... in order;
 * - the results, the collected `ElementError`s (with their attempts) and the handler calls
 *   are exactly the model's; no unhandled rejection escapes; `onDone` runs once per stage.
 *
 * A second property tears such runs down at a random moment (a caller abort, a `break`, a
 * failing `onDone`, a handler that throws) while elements wait in back-offs of random length
 * or in slow handlers: the run settles once with the right error, no back-off timer is left,
 * no call of `f` starts after teardown, and `onDone` still runs once per stage.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipe, type ElementError, type ErrorPolicy, type Pipeline } from "@sluice/dsl";
import { trackTimers } from "../helpers/timers.js";
import { UnhandledRejections, macrotask, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

type Kind = "map" | "filter" | "flatMap" | "each";
type Policy = "skip" | "collect" | "handlerSync" | "handlerAsync";

interface Stage {
  readonly kind: Kind;
  readonly policy: Policy;
  readonly retries: number;
  readonly workers: number;
  readonly async: boolean;
  /** Failure rate in percent for any (element, attempt). */
  readonly failRate: number;
}

/** A stable pseudo-random number in [0, 100) for a string (FNV-1a). */
function hash100(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}

/** Adds a stage of `kind` (the methods' overloads differ, so the call goes through one signature). */
function addStage(pipeline: Pipeline<string>, kind: Kind, f: unknown, options: object): Pipeline<string> {
  return (pipeline as unknown as Record<Kind, (f: unknown, options: object) => Pipeline<string>>)[kind](f, options);
}

const fails = (stage: number, value: string, attempt: number, rate: number) => hash100(`${stage}|${value}|${attempt}`) < rate;
const keeps = (value: string) => hash100(`keep|${value}`) >= 30;

/** What each stage does to each element, by the rules of docs/behaviour.md §10. */
function model(source: readonly string[], stages: readonly Stage[]) {
  let elements = [...source];
  const calls = new Map<string, number>();
  const givenUp: Array<{ stage: number; value: string; attempts: number; policy: Policy }> = [];
  stages.forEach((stage, s) => {
    const next: string[] = [];
    for (const value of elements) {
      let attempt = 1;
      while (fails(s, value, attempt, stage.failRate) && attempt <= stage.retries) attempt++;
      calls.set(`${s}|${value}`, attempt);
      if (fails(s, value, attempt, stage.failRate)) {
        givenUp.push({ stage: s, value, attempts: attempt, policy: stage.policy });
        continue;
      }
      if (stage.kind === "map") next.push(`${value}m`);
      else if (stage.kind === "filter" && keeps(value)) next.push(value);
      else if (stage.kind === "flatMap" && keeps(value)) next.push(`${value}a`, `${value}b`);
    }
    elements = next;
  });
  return { results: elements, calls, givenUp };
}

const stageArb: fc.Arbitrary<Stage> = fc.record({
  kind: fc.constantFrom<Kind>("map", "filter", "flatMap", "each"),
  policy: fc.constantFrom<Policy>("skip", "collect", "handlerSync", "handlerAsync"),
  retries: fc.integer({ min: 0, max: 2 }),
  workers: fc.integer({ min: 1, max: 4 }),
  async: fc.boolean(),
  failRate: fc.integer({ min: 0, max: 60 }),
});

describe("element outcomes, as properties", () => {
  it("every element is emitted, dropped or given up on exactly once, with exactly the model's calls and failures", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 999 }), { maxLength: 25 }),
        fc.array(stageArb, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (numbers, stages, ordered) => {
          const source = numbers.map((n, i) => `${n}-${i}`);
          const expected = model(source, stages);
          const calls = new Map<string, number[]>();
          const handled: Array<{ stage: number; failure: ElementError }> = [];
          const onDone = stages.map(() => 0);

          let pipeline = pipe(source) as Pipeline<string>;
          stages.forEach((stage, s) => {
            const f = (value: string, ctx: { attempt: number }): unknown => {
              const key = `${s}|${value}`;
              calls.set(key, [...(calls.get(key) ?? []), ctx.attempt]);
              const failed = fails(s, value, ctx.attempt, stage.failRate);
              const error = new Error(`${key}|${ctx.attempt}`);
              let result: unknown;
              if (stage.kind === "map") result = `${value}m`;
              else if (stage.kind === "filter") result = keeps(value);
              else if (stage.kind === "flatMap") result = keeps(value) ? [`${value}a`, `${value}b`] : [];
              if (!stage.async) {
                if (failed) throw error;
                return result;
              }
              return macrotask().then(() => (failed ? Promise.reject(error) : result));
            };
            const policy: ErrorPolicy =
              stage.policy === "handlerSync"
                ? (failure) => void handled.push({ stage: s, failure })
                : stage.policy === "handlerAsync"
                  ? async (failure) => {
                      await macrotask();
                      handled.push({ stage: s, failure });
                    }
                  : stage.policy;
            const options = {
              workers: stage.workers,
              onError: policy,
              retry: { retries: stage.retries, minDelay: 0, maxDelay: 1 },
              onDone: () => void onDone[s]!++,
            };
            pipeline = addStage(pipeline, stage.kind, f, options);
          });
          if (ordered) pipeline = pipeline.ordered();

          const { results, errors } = await pipeline.toResult();

          expect([...results].sort()).toEqual([...expected.results].sort());
          if (ordered) {
            // ordered() restores source order, moving past every element given up on.
            const position = (value: string) => Number(value.split("-")[1]!.replace(/\D.*$/, ""));
            expect(results.map(position)).toEqual([...results.map(position)].sort((a, b) => a - b));
          }
          // f's calls: exactly the model's number per element, attempts numbered 1, 2, 3...
          expect(calls.size).toBe(expected.calls.size);
          for (const [key, attempts] of expected.calls) {
            expect(calls.get(key), key).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
          }
          // Given up on: collected or handled exactly once each, with the attempts made.
          const describe = (stage: number, failure: ElementError) => `${stage}|${String(failure.value)}|${failure.attempts}`;
          const stageOf = (failure: ElementError) => Number(failure.stage.split("#")[1]) - 1;
          const collected = errors.map((failure) => describe(stageOf(failure), failure));
          const byHandler = handled.map(({ stage, failure }) => describe(stage, failure));
          const model_ = (policies: readonly Policy[]) =>
            expected.givenUp
              .filter((up) => policies.includes(up.policy))
              .map((up) => `${up.stage}|${up.value}|${up.attempts}`)
              .sort();
          expect(collected.sort()).toEqual(model_(["collect"]));
          expect(byHandler.sort()).toEqual(model_(["handlerSync", "handlerAsync"]));
          for (const failure of [...errors, ...handled.map((h) => h.failure)]) {
            expect((failure.error as Error).message).toBe(`${stageOf(failure)}|${String(failure.value)}|${failure.attempts}`);
          }
          expect(onDone).toEqual(stages.map(() => 1));
        },
      ),
      { numRuns: 150 },
    );
    expect(unhandled.count).toBe(0);
  });
});

type Teardown =
  | { readonly how: "abort"; readonly afterMs: number }
  | { readonly how: "break"; readonly at: number }
  | { readonly how: "onDoneThrows"; readonly stage: number }
  | { readonly how: "handlerThrows" };

/** Resolves after `ms` milliseconds, or rejects at once (clearing its timer) when `signal` aborts. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
}

/** Timers alive in this file's tests (back-off timers among them). */
const timers = trackTimers();

describe("element outcomes under teardown, as properties", () => {
  it("a run torn down while elements back off or are handled settles once, leaves no timer and starts nothing after", async () => {
    const teardownArb: fc.Arbitrary<Teardown> = fc.oneof(
      fc.record({ how: fc.constant("abort" as const), afterMs: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ how: fc.constant("break" as const), at: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ how: fc.constant("onDoneThrows" as const), stage: fc.integer({ min: 0, max: 2 }) }),
      fc.constant({ how: "handlerThrows" as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom<Kind>("map", "filter", "flatMap"),
            workers: fc.integer({ min: 1, max: 4 }),
            async: fc.boolean(),
            failRate: fc.integer({ min: 20, max: 80 }),
            minDelay: fc.constantFrom(0, 1, 5, 60_000),
            handler: fc.boolean(),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        teardownArb,
        async (n, stages, teardown) => {
          const before = timers();
          const controller = new AbortController();
          let tornDown = false;
          let startedAfter = 0;
          const onDone = stages.map(() => 0);
          const thrown = new Error("teardown by the test");
          let pipeline = pipe(Array.from({ length: n }, (_, i) => `${i}`)) as Pipeline<string>;
          stages.forEach((stage, s) => {
            const f = (value: string, ctx: { attempt: number }): unknown => {
              if (tornDown) startedAfter++;
              const failed = fails(s, value, ctx.attempt, stage.failRate);
              const result = stage.kind === "map" ? `${value}m` : stage.kind === "filter" ? keeps(value) : [`${value}a`];
              if (!stage.async) {
                if (failed) throw new Error("f");
                return result;
              }
              return macrotask().then(() => (failed ? Promise.reject(new Error("f")) : result));
            };
            // Teardown does not wait for a handler: one that keeps a timer must clear it when the run's signal aborts.
            const handler: ErrorPolicy = async (_failure, { signal }) => {
              await sleepUnlessAborted(2, signal);
              if (teardown.how === "handlerThrows") throw thrown;
            };
            pipeline = addStage(pipeline, stage.kind, f, {
              workers: stage.workers,
              // A minute-long back-off only where an abort ends the run; else the run would wait it out.
              retry: { retries: 2, minDelay: teardown.how === "abort" ? stage.minDelay : Math.min(stage.minDelay, 5), jitter: "none" },
              onError: stage.handler || teardown.how === "handlerThrows" ? handler : "skip",
              onDone: () => {
                onDone[s]!++;
                if (teardown.how === "onDoneThrows" && teardown.stage === s) throw thrown;
              },
            });
          });
          const mark = () => void (tornDown = true);
          controller.signal.addEventListener("abort", mark);

          let error: unknown;
          try {
            if (teardown.how === "break") {
              let seen = 0;
              for await (const _value of pipeline.iterate({ signal: controller.signal })) {
                if (seen++ === teardown.at) {
                  mark();
                  break;
                }
              }
            } else {
              if (teardown.how === "abort") setTimeout(() => controller.abort(thrown), teardown.afterMs);
              await pipeline.toArray({ signal: controller.signal });
            }
          } catch (caught) {
            error = caught;
          }
          mark();
          // A failure, if any, is the test's own teardown error (every element failure is skipped or handled).
          if (error !== undefined) expect(error).toBe(thrown);
          expect(startedAfter).toBe(0);
          expect(onDone).toEqual(stages.map(() => 1));
          if (teardown.how === "abort") await sleep(teardown.afterMs + 1);
          expect(timers()).toBeLessThanOrEqual(before);
        },
      ),
      { numRuns: 120 },
    );
    expect(unhandled.count).toBe(0);
  });
});
