import { isPromiseLike, type HookInfo } from "@sluice/core";

/** Where a scan stage keeps its accumulator in `ctx` (a symbol: no user key can clash with it). */
const ACCUMULATOR = Symbol("scan accumulator");

/** One run's accumulator of one scan stage. */
class Accumulator {
  constructor(public value: unknown) {}
}

/**
 * The `onStart` of a scan stage: a fresh accumulator per run, so a pipeline value can be run
 * again (or twice at once) and each run starts from `initial`.
 */
export function scanStart(initial: unknown): (info: HookInfo) => object {
  return () => ({ [ACCUMULATOR]: new Accumulator(initial) });
}

/**
 * The stage function of `scan(f, initial)`, for a stage with one worker (so calls never
 * overlap): `f(accumulator, element)` becomes the new accumulator, and is emitted.
 */
export function scanStep(f: (accumulator: unknown, value: unknown) => unknown): (value: unknown, ctx: unknown) => unknown {
  return (value, ctx) => {
    const accumulator = (ctx as { [ACCUMULATOR]: Accumulator })[ACCUMULATOR];
    const next = f(accumulator.value, value);
    if (!isPromiseLike(next)) return (accumulator.value = next);
    return Promise.resolve(next).then((settled) => (accumulator.value = settled));
  };
}
