/**
 * The failure-injection matrix (docs/behaviour.md §7). fast-check builds random pipelines (1 to 3 stages of
 * map/filter/flatMap/each, sync, async or mixed `f`, with or without hooks, a sync or async
 * source, optionally ending in ordered()) and injects zero, one or two failures at random
 * moments: a throw in a sync `f`, a rejection from an async `f`, a failing source `next()`, a
 * failing `onStart` or `onDone`, a throw or `break` in the consumer's loop body, a caller abort,
 * a timeout. Every case must:
 *
 * - settle exactly once, after which nothing of the run starts or finishes any more;
 * - show the consumer exactly one error: the first, as the same object (never one raised
 *   after teardown began), or none when nothing failed before teardown;
 * - raise zero unhandled rejections;
 * - run every stage's `onDone` exactly once iff its `onStart` (when given) succeeded, after
 *   the stage's in-flight calls have settled, and before the consumer settles;
 * - call the source iterator's `return()` when the source was not exhausted (and await it);
 * - start no call of `f` after teardown began.
 */
import { getEventListeners } from "node:events";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeoutError, pipe, type Pipeline } from "@sluice/dsl";
import { UnhandledRejections, settleEventLoop, sleep, sorted } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

// ---- the plan of one case ------------------------------------------------------------

type ErrorKind = "error" | "string" | "undefined" | "null" | "object" | "number";
type Reaction = "finish" | "rejectReason" | "rejectLate";

interface StagePlan {
  readonly kind: "map" | "filter" | "flatMap" | "each";
  readonly workers: number;
  readonly maxsize: number;
  readonly fMode: "sync" | "async" | "mixed";
  readonly onStart: "none" | "sync" | "async";
  readonly onDone: "sync" | "async";
  /** What an async call does when its `ctx.signal` aborts mid-way. */
  readonly onAbort: Reaction;
}

type Failure =
  | { readonly where: "fSync" | "fAsync"; readonly stage: number; readonly at: number; readonly error: ErrorKind }
  | { readonly where: "sourceNext"; readonly at: number; readonly sync: boolean; readonly error: ErrorKind }
  | { readonly where: "onStart"; readonly stage: number; readonly error: ErrorKind }
  | { readonly where: "onDone"; readonly stage: number; readonly error: ErrorKind }
  | { readonly where: "body"; readonly at: number; readonly error: ErrorKind }
  | { readonly where: "break"; readonly at: number }
  | { readonly where: "abort"; readonly at: number; readonly timing: "inline" | "microtask" | "timer"; readonly reason: ErrorKind | "none" }
  | { readonly where: "timeout"; readonly stage: number; readonly at: number; readonly after: Reaction };

type ConsumerKind = "toArray" | "await" | "run" | "forAwait" | "iterate";

interface Plan {
  readonly n: number;
  readonly sourceKind: "sync" | "async";
  readonly sourceTimers: boolean;
  readonly stages: readonly StagePlan[];
  readonly consumer: ConsumerKind;
  /** Whether the chain ends with ordered(). */
  readonly ordered: boolean;
  readonly slowConsumer: boolean;
  readonly failures: readonly Failure[];
}

const errorKindArb = fc.constantFrom<ErrorKind>("error", "error", "string", "undefined", "null", "object", "number");
const reactionArb = fc.constantFrom<Reaction>("finish", "rejectReason", "rejectLate");

const stagePlanArb: fc.Arbitrary<StagePlan> = fc.record({
  kind: fc.constantFrom("map", "filter", "flatMap", "each"),
  workers: fc.integer({ min: 1, max: 4 }),
  maxsize: fc.integer({ min: 0, max: 3 }),
  fMode: fc.constantFrom("sync", "async", "mixed"),
  onStart: fc.constantFrom("none", "sync", "async"),
  onDone: fc.constantFrom("sync", "async"),
  onAbort: reactionArb,
});

const failureArb = (stages: number): fc.Arbitrary<Failure> => {
  const stage = fc.integer({ min: 0, max: stages - 1 });
  const at = fc.integer({ min: 0, max: 12 });
  return fc.oneof(
    fc.record({ where: fc.constantFrom("fSync" as const, "fAsync" as const), stage, at, error: errorKindArb }),
    fc.record({ where: fc.constant("sourceNext" as const), at, sync: fc.boolean(), error: errorKindArb }),
    fc.record({ where: fc.constantFrom("onStart" as const, "onDone" as const), stage, error: errorKindArb }),
    fc.record({ where: fc.constant("body" as const), at, error: errorKindArb }),
    fc.record({ where: fc.constant("break" as const), at }),
    fc.record({
      where: fc.constant("abort" as const),
      at,
      timing: fc.constantFrom("inline" as const, "microtask" as const, "timer" as const),
      reason: fc.constantFrom<ErrorKind | "none">("error", "string", "undefined", "none", "object"),
    }),
    fc.record({ where: fc.constant("timeout" as const), stage, at, after: reactionArb }),
  );
};

const planArb: fc.Arbitrary<Plan> = fc
  .array(stagePlanArb, { minLength: 1, maxLength: 3 })
  .chain((stages) =>
    fc.record({
      n: fc.integer({ min: 0, max: 16 }),
      sourceKind: fc.constantFrom("sync" as const, "async" as const),
      sourceTimers: fc.boolean(),
      stages: fc.constant(stages),
      consumer: fc.constantFrom<ConsumerKind>("toArray", "await", "run", "forAwait", "iterate"),
      ordered: fc.boolean(),
      slowConsumer: fc.boolean(),
      failures: fc.array(failureArb(stages.length), { maxLength: 2 }),
    }),
  )
  .map(normalise);

/** Makes a plan consistent: a loop-body failure needs a loop, an abort needs a signal, a hook failure needs the hook. */
function normalise(plan: Plan): Plan {
  let consumer = plan.consumer;
  const needsLoop = plan.failures.some((f) => f.where === "body" || f.where === "break");
  if (needsLoop && consumer !== "forAwait" && consumer !== "iterate") consumer = "forAwait";
  if (plan.failures.some((f) => f.where === "abort") && consumer === "await") consumer = "toArray";
  const stages = plan.stages.map((stage, i) =>
    plan.failures.some((f) => f.where === "onStart" && f.stage === i) && stage.onStart === "none"
      ? { ...stage, onStart: "sync" as const }
      : stage,
  );
  // One loop-ending failure of each kind is enough; keep the first.
  const failures = plan.failures.filter(
    (f, i) => !((f.where === "body" || f.where === "break") && plan.failures.findIndex((g) => g.where === "body" || g.where === "break") !== i),
  );
  return { ...plan, consumer, stages, failures };
}

/** The first failure of the given kinds, typed. */
function pick<W extends Failure["where"]>(failures: readonly Failure[], ...where: W[]): Extract<Failure, { where: W }> | undefined {
  return failures.find((f): f is Extract<Failure, { where: W }> => (where as string[]).includes(f.where));
}

// ---- one case ------------------------------------------------------------------------

/** A failure that happened: its value and whether teardown had already begun. */
interface Raised {
  readonly value: unknown;
  readonly late: boolean;
  readonly what: string;
}

let caseNumber = 0;

function makeError(kind: ErrorKind, label: string): unknown {
  switch (kind) {
    case "error":
      return new Error(`${label} #${caseNumber}`);
    case "string":
      return `${label} #${caseNumber}`;
    case "undefined":
      return undefined;
    case "null":
      return null;
    case "object":
      return { label, case: caseNumber };
    case "number":
      return 0;
  }
}

const TIMEOUT_MS = 25;

const STAGE_FNS = {
  map: (x: number): number => x * 2,
  filter: (x: number): boolean => x % 3 !== 0,
  flatMap: (x: number): number[] => (x % 2 === 0 ? [x, x + 1000] : []),
};

function modelOutput(plan: Plan): number[] {
  let values = Array.from({ length: plan.n }, (_, i) => i);
  for (const stage of plan.stages) {
    if (stage.kind === "map") values = values.map(STAGE_FNS.map);
    else if (stage.kind === "filter") values = values.filter(STAGE_FNS.filter);
    else if (stage.kind === "flatMap") values = values.flatMap(STAGE_FNS.flatMap);
    else values = [];
  }
  return values;
}

/** Runs one planned case and returns the list of broken promises (empty when all held). */
async function runCase(plan: Plan): Promise<string[]> {
  caseNumber++;
  const problems: string[] = [];
  const raised: Raised[] = [];
  let teardownBegan = false;
  let settled = false;
  const unhandledBefore = unhandled.count;

  const raise = (value: unknown, what: string): unknown => {
    raised.push({ value, late: teardownBegan || settled, what });
    return value;
  };

  // The run's signal (hooks) and untimed calls' signals: an abort of any marks teardown.
  const runSignals = new Set<AbortSignal>();
  const watchRunSignal = (signal: AbortSignal): void => {
    if (runSignals.has(signal)) return;
    runSignals.add(signal);
    if (signal.aborted) teardownBegan = true;
    else signal.addEventListener("abort", () => (teardownBegan = true), { once: true });
  };

  // A timed call's own signal aborts with the engine's TimeoutError when the call times out.
  const watchCallSignal = (signal: AbortSignal): void => {
    signal.addEventListener(
      "abort",
      () => {
        const reason: unknown = signal.reason;
        if (reason instanceof TimeoutError && !raised.some((r) => r.value === reason)) raise(reason, "timeout");
      },
      { once: true },
    );
  };

  const controller = new AbortController();
  const abortCaller = (reasonKind: ErrorKind | "none"): void => {
    if (controller.signal.aborted) return;
    // The run listens to the caller's signal exactly while it runs; once it has settled an
    // abort must change nothing (the checks after settling see to that), so it is not a failure.
    if (settled || getEventListeners(controller.signal, "abort").length === 0) {
      controller.abort(reasonKind === "none" ? undefined : makeError(reasonKind, "caller abort"));
      return;
    }
    const late = teardownBegan;
    teardownBegan = true;
    if (reasonKind === "none") controller.abort();
    else controller.abort(makeError(reasonKind, "caller abort"));
    raised.push({ value: controller.signal.reason, late, what: "caller abort" });
  };

  // ---- the source ----
  let opened = 0;
  let pulls = 0;
  let exhausted = false;
  let nextFailed = false;
  let nextPending = 0;
  let returnCalls = 0;
  let returnAwaitable = false;
  let returnFinished = false;
  const sourceFailure = pick(plan.failures, "sourceNext");
  const produce = (): IteratorResult<number> => {
    const i = pulls++;
    if (returnCalls > 0) problems.push(`source next() called after return()`);
    if (i >= plan.n) {
      exhausted = true;
      return { done: true, value: undefined };
    }
    return { done: false, value: i };
  };
  // Counts a next() as pending until the engine sees its outcome: this reaction is registered
  // before the engine's, so it runs in the job just before the engine's.
  const pending = (promise: Promise<IteratorResult<number>>): Promise<IteratorResult<number>> => {
    nextPending++;
    const done = (): void => void nextPending--;
    promise.then(done, done);
    return promise;
  };
  const onReturn = (): void => {
    returnCalls++;
    if (!exhausted) teardownBegan = true;
  };
  const source: Iterable<number> | AsyncIterable<number> =
    plan.sourceKind === "sync"
      ? {
          [Symbol.iterator]: () => {
            opened++;
            return {
              next: (): IteratorResult<number> => {
                if (sourceFailure?.where === "sourceNext" && sourceFailure.at === pulls) {
                  pulls++;
                  nextFailed = true;
                  throw raise(makeError(sourceFailure.error, "source next"), "source next");
                }
                return produce();
              },
              return: (): IteratorResult<number> => {
                onReturn();
                return { done: true, value: undefined };
              },
            };
          },
        }
      : {
          [Symbol.asyncIterator]: () => {
            opened++;
            return {
              next: (): Promise<IteratorResult<number>> => {
                if (sourceFailure?.where === "sourceNext" && sourceFailure.at === pulls) {
                  pulls++;
                  nextFailed = true;
                  if (sourceFailure.sync) throw raise(makeError(sourceFailure.error, "source next"), "source next");
                  return pending(
                    sleep(plan.sourceTimers ? 1 : 0).then(() => {
                      throw raise(makeError(sourceFailure.error, "source next"), "source next");
                    }),
                  );
                }
                const result = produce();
                if (!plan.sourceTimers) return pending(Promise.resolve(result));
                return pending(sleep(result.done === true ? 0 : pulls % 2).then(() => result));
              },
              return: (): Promise<IteratorResult<number>> => {
                onReturn();
                returnAwaitable = nextPending === 0;
                return sleep(1).then(() => {
                  returnFinished = true;
                  return { done: true, value: undefined };
                });
              },
            };
          },
        };

  // ---- the stages ----
  const stageCount = plan.stages.length;
  const calls = new Array<number>(stageCount).fill(0);
  const inFlight = new Array<number>(stageCount).fill(0);
  const onStartCalls = new Array<number>(stageCount).fill(0);
  const onStartOk = new Array<boolean>(stageCount).fill(false);
  const onDoneCalls = new Array<number>(stageCount).fill(0);
  let onDonePending = 0;
  let fStarts = 0;

  const abortFailure = pick(plan.failures, "abort");
  const triggerAbort = (): void => {
    if (abortFailure?.where !== "abort") return;
    if (abortFailure.timing === "inline") abortCaller(abortFailure.reason);
    else if (abortFailure.timing === "microtask") queueMicrotask(() => abortCaller(abortFailure.reason));
    else setTimeout(() => abortCaller(abortFailure.reason), 0);
  };

  /** Waits `ms`, or until `signal` aborts; then reacts to the abort as `reaction` says. */
  const work = (ms: number, signal: AbortSignal, reaction: Reaction, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", onAbort, { once: true });
      function done(): void {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }
      function onAbort(): void {
        clearTimeout(timer);
        if (reaction === "finish") resolve();
        else if (reaction === "rejectReason") reject(raise(signal.reason, `${what} rejects with signal.reason`));
        else reject(raise(new Error(`late ${what}`), `${what} rejects late`));
      }
    });

  let pipeline: Pipeline<number> = pipe(source);
  plan.stages.forEach((stage, s) => {
    const stageFailures = plan.failures.filter((f) => "stage" in f && f.stage === s);
    const fFailure = pick(stageFailures, "fSync", "fAsync");
    const timeout = pick(stageFailures, "timeout");
    const startFailure = pick(stageFailures, "onStart");
    const doneFailure = pick(stageFailures, "onDone");

    const f = (x: number, ctx: { signal: AbortSignal; tag?: number }): unknown => {
      fStarts++;
      const signal = ctx.signal;
      if (teardownBegan || signal.aborted) problems.push(`stage ${s}: a call of f started after teardown began`);
      if (timeout === undefined) watchRunSignal(signal);
      else watchCallSignal(signal);
      if (stage.onStart !== "none" && ctx.tag !== s) problems.push(`stage ${s}: f ran without onStart's context`);
      const call = calls[s]!++;
      if (abortFailure?.where === "abort" && abortFailure.at === fStarts - 1) triggerAbort();

      const compute = (): unknown => (stage.kind === "each" ? undefined : STAGE_FNS[stage.kind](x));
      if (fFailure !== undefined && fFailure.at === call) {
        const error = makeError(fFailure.error, `stage ${s} f`);
        if (fFailure.where === "fSync") throw raise(error, `stage ${s} sync f`);
        if (stage.kind === "flatMap") {
          // An async expansion that fails after its first child. It is not counted in flight:
          // teardown need not wait for a pending next() of an expansion, as for the source.
          return (async function* () {
            yield x;
            await sleep(0);
            throw raise(error, `stage ${s} async generator`);
          })();
        }
        inFlight[s]!++;
        return (async () => {
          try {
            await (call % 2 === 0 ? Promise.resolve() : sleep(0));
            throw raise(error, `stage ${s} async f`);
          } finally {
            inFlight[s]!--;
          }
        })();
      }
      if (timeout?.where === "timeout" && timeout.at === call) {
        // This call outlives the stage's timeout and is abandoned: it does not count as in flight.
        return (async () => {
          await work(60_000, signal, timeout.after, `stage ${s} timed-out call`);
          return compute();
        })();
      }
      if (stage.fMode === "sync" || (stage.fMode === "mixed" && x % 2 === 0)) return compute();
      inFlight[s]!++;
      return (async () => {
        try {
          await work(call % 3, signal, stage.onAbort, `stage ${s} f`);
          return compute();
        } finally {
          inFlight[s]!--;
        }
      })();
    };

    const onStart =
      stage.onStart === "none"
        ? undefined
        : (info: { signal: AbortSignal }): { tag: number } | Promise<{ tag: number }> => {
            onStartCalls[s]!++;
            watchRunSignal(info.signal);
            const fail = (): never => {
              throw raise(makeError(startFailure!.error, `stage ${s} onStart`), `stage ${s} onStart`);
            };
            if (stage.onStart === "sync") {
              if (startFailure !== undefined) fail();
              onStartOk[s] = true;
              return { tag: s };
            }
            return sleep(0).then(() => {
              if (startFailure !== undefined) fail();
              onStartOk[s] = true;
              return { tag: s };
            });
          };

    const onDone = (info: { signal: AbortSignal }): void | Promise<void> => {
      onDoneCalls[s]!++;
      watchRunSignal(info.signal);
      if (settled) problems.push(`stage ${s}: onDone ran after the run settled`);
      if (inFlight[s]! > 0) problems.push(`stage ${s}: onDone ran with ${inFlight[s]} calls in flight`);
      const fail = (): never => {
        throw raise(makeError(doneFailure!.error, `stage ${s} onDone`), `stage ${s} onDone`);
      };
      if (stage.onDone === "sync") {
        if (doneFailure !== undefined) fail();
        return;
      }
      onDonePending++;
      return sleep(1).then(() => {
        onDonePending--;
        if (doneFailure !== undefined) fail();
      });
    };

    const options = {
      workers: stage.workers,
      maxsize: stage.maxsize,
      ...(timeout === undefined ? {} : { timeout: TIMEOUT_MS }),
      ...(onStart === undefined ? {} : { onStart }),
      onDone,
    };
    const fn = f as (x: number, ctx: unknown) => never;
    pipeline =
      stage.kind === "map"
        ? pipeline.map(fn, options)
        : stage.kind === "filter"
          ? pipeline.filter(fn, options)
          : stage.kind === "flatMap"
            ? pipeline.flatMap(fn, options)
            : pipeline.each(fn, options);
  });

  if (plan.ordered) pipeline = pipeline.ordered();

  // ---- the consumer ----
  const signalOption = abortFailure === undefined ? {} : { signal: controller.signal };
  const loopEnd = pick(plan.failures, "body", "break");
  let bodyError: { value: unknown } | undefined;
  let left = false;
  let outcome: { ok: true; values: number[] | undefined } | { ok: false; error: unknown };
  let settlements = 0;
  const errorsSeen: unknown[] = [];
  let snapshot = { fStarts: 0, onDone: 0, pulls: 0 };
  const onSettled = (): void => {
    settlements++;
    settled = true;
    snapshot = { fStarts, onDone: onDoneCalls.reduce((a, b) => a + b, 0), pulls };
    for (let s = 0; s < stageCount; s++) {
      if (inFlight[s]! > 0) problems.push(`stage ${s}: settled with ${inFlight[s]} calls of f in flight`);
    }
    if (onDonePending > 0) problems.push(`settled with ${onDonePending} onDone still running`);
    if (returnCalls > 0 && returnAwaitable && !returnFinished) problems.push(`settled before the source's return() finished`);
  };

  if (plan.consumer === "toArray" || plan.consumer === "await" || plan.consumer === "run") {
    const promise: Promise<number[] | void> =
      plan.consumer === "toArray"
        ? pipeline.toArray(signalOption)
        : plan.consumer === "run"
          ? pipeline.run(signalOption)
          : Promise.resolve().then(async () => await pipeline);
    outcome = await promise.then(
      (values) => {
        onSettled();
        return { ok: true as const, values: values === undefined ? undefined : values };
      },
      (error: unknown) => {
        onSettled();
        errorsSeen.push(error);
        return { ok: false as const, error };
      },
    );
  } else {
    const iterator = pipeline.iterate(signalOption);
    const values: number[] = [];
    try {
      if (plan.consumer === "forAwait") {
        for await (const x of { [Symbol.asyncIterator]: () => iterator }) {
          values.push(x);
          if (plan.slowConsumer && values.length % 3 === 0) await sleep(0);
          if (loopEnd !== undefined && loopEnd.at === values.length - 1) {
            teardownBegan = true;
            left = true;
            if (loopEnd.where === "break") break;
            bodyError = { value: makeError(loopEnd.error, "loop body") };
            throw bodyError.value;
          }
        }
      } else {
        for (;;) {
          const result = await iterator.next();
          if (result.done === true) break;
          values.push(result.value);
          if (plan.slowConsumer && values.length % 3 === 0) await sleep(0);
          if (loopEnd !== undefined && loopEnd.at === values.length - 1) {
            teardownBegan = true;
            left = true;
            await iterator.return!();
            if (loopEnd.where === "break") break;
            bodyError = { value: makeError(loopEnd.error, "loop body") };
            throw bodyError.value;
          }
        }
      }
      onSettled();
      outcome = { ok: true, values: left ? undefined : values };
    } catch (error) {
      onSettled();
      errorsSeen.push(error);
      outcome = { ok: false, error };
    }
    // The iterator is finished for good: no second error, no more values.
    for (let i = 0; i < 2; i++) {
      try {
        const after = await iterator.next();
        if (after.done !== true) problems.push(`next() after the end gave a value`);
      } catch (error) {
        errorsSeen.push(error);
        problems.push(`next() after the end threw a second error`);
      }
    }
  }

  // ---- the promises ----
  if (settlements !== 1) problems.push(`settled ${settlements} times`);
  if (errorsSeen.length > 1) problems.push(`the consumer saw ${errorsSeen.length} errors`);

  const early = raised.filter((r) => !r.late);
  const runReasons = [...runSignals].filter((signal) => signal.aborted).map((signal) => signal.reason);
  // Untimed calls get a signal each (no listeners piling up on a shared one); every one that
  // aborted must have aborted for the one teardown reason.
  if (new Set(runReasons).size > 1) problems.push(`the run's signals aborted for ${new Set(runReasons).size} different reasons`);
  if (!outcome.ok) {
    const error = outcome.error;
    if (bodyError !== undefined) {
      if (!Object.is(error, bodyError.value)) problems.push(`the loop body's throw was replaced by ${String(error)}`);
    } else {
      if (!early.some((r) => Object.is(r.value, error))) {
        problems.push(
          `the consumer saw ${show(error)}, which is not a failure raised before teardown (raised: ${raised.map((r) => `${r.what}${r.late ? " (late)" : ""}`).join(", ")})`,
        );
      }
      // (An AbortSignal cannot carry `undefined` as its reason: abort(undefined) gives an AbortError.)
      if (runReasons.length > 0 && error !== undefined && !Object.is(runReasons[0], error)) {
        problems.push(`the consumer saw ${show(error)} but the run was torn down for ${show(runReasons[0])}`);
      }
    }
  } else if (!left) {
    if (early.length > 0) problems.push(`the run succeeded although ${early.map((r) => r.what).join(", ")} failed first`);
    if (outcome.values !== undefined && plan.consumer !== "run") {
      const expected = modelOutput(plan);
      if (plan.ordered ? JSON.stringify(outcome.values) !== JSON.stringify(expected) : JSON.stringify(sorted(outcome.values)) !== JSON.stringify(sorted(expected))) {
        problems.push(`the run succeeded with the wrong elements`);
      }
    }
  }

  // onStart runs for every stage; onDone exactly once iff onStart (when given) succeeded.
  plan.stages.forEach((stage, s) => {
    if (stage.onStart !== "none" && onStartCalls[s] !== 1) problems.push(`stage ${s}: onStart ran ${onStartCalls[s]} times`);
    const owed = stage.onStart === "none" || onStartOk[s] ? 1 : 0;
    if (onDoneCalls[s] !== owed) problems.push(`stage ${s}: onDone ran ${onDoneCalls[s]} times, expected ${owed}`);
  });

  // The source is closed unless it was exhausted (or broke by throwing from next()).
  if (opened > 1) problems.push(`the source was opened ${opened} times`);
  if (returnCalls > 1) problems.push(`the source's return() was called ${returnCalls} times`);
  if (opened === 1 && !exhausted && !nextFailed && returnCalls === 0) problems.push(`the source's return() was never called`);

  // After settling: nothing starts, nothing finishes, nothing rejects unhandled.
  await settleEventLoop();
  await sleep(4);
  if (fStarts !== snapshot.fStarts) problems.push(`${fStarts - snapshot.fStarts} calls of f started after the run settled`);
  if (onDoneCalls.reduce((a, b) => a + b, 0) !== snapshot.onDone) problems.push(`onDone ran after the run settled`);
  if (pulls !== snapshot.pulls) problems.push(`the source was pulled after the run settled`);
  if (unhandled.count !== unhandledBefore) {
    problems.push(`${unhandled.count - unhandledBefore} unhandled rejections: ${unhandled.reasons.slice(unhandledBefore).map(show).join(", ")}`);
  }
  return problems;
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}

// ---- the tests -----------------------------------------------------------------------

describe("failure injection", () => {
  it("every random case settles once with the first error as the same object, runs each owed onDone once, closes the source, starts no f after teardown and leaks no rejection", async () => {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        expect(await runCase(plan)).toEqual([]);
      }),
      { numRuns: Number(process.env["MATRIX_RUNS"] ?? 300), timeout: 2_000 },
    );
    expect(unhandled.count).toBe(0);
  }, 120_000);
});
