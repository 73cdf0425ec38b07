/**
 * The keys the engine puts into every `ctx`; `onStart` may not return them. The DSL's types
 * and its checks derive from this list, so the two cannot drift apart.
 *
 * @example
 * ```ts
 * RESERVED_CONTEXT_KEYS; // ["signal", "index", "stage", "attempt", "pushback", "charge"]
 * // A type error, and (untyped) the run fails with an OptionsError naming the key:
 * await pipe([1]).map((x) => x, { onStart: () => ({ signal: 1 }) });
 * ```
 */
export const RESERVED_CONTEXT_KEYS = Object.freeze(["signal", "index", "stage", "attempt", "pushback", "charge"] as const);

/**
 * The engine's part of every `ctx`: one property per reserved context key (`RESERVED_CONTEXT_KEYS`).
 *
 * @example
 * ```ts
 * const logIndex = (x: string, { index, stage }: EngineContext) => console.log(stage, index, x);
 * await pipe(["a", "b"]).each(logIndex).run(); // "each#1 [0] a", "each#1 [1] b" in some order
 * ```
 */
export interface EngineContext {
  /** Aborts when the run is torn down or this call times out; pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** The element's index path: its position in the source, then inside each `flatMap` expansion; `concat` prepends the input's position. */
  readonly index: readonly number[];
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
  /** Which attempt at this element the call is: 1, then 2, 3... when the stage's `retry` tries again. */
  readonly attempt: number;
  /** Says "slow down" from a call that may still succeed: an adaptive stage (`workers: "auto"`) lowers its limit as for a 429. */
  pushback(): void;
  /** Adds `units` (a finite number >= 0) to the stage's `rateLimit` once the call's real cost is known. */
  charge(units: number): void;
}

/**
 * What `onStart` receives; `onDone` receives it merged with `onStart`'s result. It is also the
 * last argument of `retry.shouldRetry`, `retry.delay` and an `onError` handler, whose
 * promises teardown does not wait for: they should stop when `signal` aborts.
 *
 * @example
 * ```ts
 * pipe(urls).map(fetchJson, {
 *   onStart: (info: HookInfo) => { console.log(`${info.stage} starting`); return { agent: new Agent() }; },
 *   onDone: ({ agent }) => agent.close(),
 * });
 * ```
 */
export interface HookInfo {
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
  /** Aborts when the run is torn down (an error, an early exit, or the caller's abort). */
  readonly signal: AbortSignal;
}
