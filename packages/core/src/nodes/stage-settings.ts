import type { HookInfo } from "../context.js";
import type { ElementError } from "../errors.js";
import type { ConcurrencyLimiter } from "../concurrency-limiter.js";
import type { RateLimiter } from "../rate-limiter.js";

/**
 * What `onTimeout` may be: fail the run, or drop the element.
 *
 * @example
 * ```ts
 * pipe(urls).map(fetchPage, { timeout: 2_000, onTimeout: "skip" satisfies TimeoutPolicy });
 * ```
 */
export type TimeoutPolicy = (typeof TIMEOUT_POLICIES)[number];

/**
 * Every {@link TimeoutPolicy}, for validation and error messages.
 *
 * @example
 * ```ts
 * TIMEOUT_POLICIES.includes("skip"); // true
 * ```
 */
export const TIMEOUT_POLICIES = Object.freeze(["error", "skip"] as const);

/**
 * What a stage does with an element it gave up on (after its retries): `"fail"` the run (the
 * default), `"skip"` the element, `"collect"` it for the end of the run, or hand it to a
 * handler and then drop it (a handler that throws or rejects fails the run). The handler's
 * second argument has the stage's name and the run's `signal`: the element keeps its slot
 * while a promise of the handler is pending, but teardown does not wait for it (the signal
 * aborts, and whatever the promise settles to later is ignored).
 *
 * @example
 * ```ts
 * const policy: ErrorPolicy = async (failure, { signal }) => {
 *   await fetch(alertsUrl, { method: "POST", body: failure.message, signal });
 * };
 * pipe(urls).map(fetchPage, { retry: 3, onError: policy });
 * ```
 */
export type ErrorPolicy = (typeof ERROR_POLICIES)[number] | ((failure: ElementError, info: HookInfo) => void | PromiseLike<void>);

/**
 * Every named {@link ErrorPolicy}, for validation and error messages.
 *
 * @example
 * ```ts
 * ERROR_POLICIES.includes("collect"); // true
 * ```
 */
export const ERROR_POLICIES = Object.freeze(["fail", "skip", "collect"] as const);

/**
 * A stage's complete retry policy, as the scheduler reads it (the DSL fills the defaults).
 * Attempt `n` (1-based) that failed is followed, if allowed, by a wait of `delay(error, n)`
 * or else `min(maxDelay, minDelay * factor ** (n - 1))`, times a random factor in [0, 1)
 * when `jitter` is `"full"`.
 *
 * @example
 * ```ts
 * const retry: RetrySettings = {
 *   retries: 3, minDelay: 200, maxDelay: 30_000, factor: 2, jitter: "full",
 *   maxRetryTime: Infinity, shouldRetry: undefined, delay: undefined,
 * };
 * ```
 */
export interface RetrySettings {
  /** Attempts after the first: an integer >= 0. */
  readonly retries: number;
  /**
   * The first back-off, in ms (0 to {@link maxTimerDelay}).
   * @default 200 (`retryDefaults.minDelay`)
   */
  readonly minDelay: number;
  /**
   * The longest back-off, in ms (0 to {@link maxTimerDelay}).
   * @default 30_000 (`retryDefaults.maxDelay`)
   */
  readonly maxDelay: number;
  /**
   * How much each back-off grows: 1 to {@link maxRetryFactor}.
   * @default 2 (`retryDefaults.factor`)
   */
  readonly factor: number;
  /**
   * `"full"`: each back-off is a random part of the computed one; `"none"`: exactly it.
   * @default "full" (`retryDefaults.jitter`)
   */
  readonly jitter: JitterMode;
  /**
   * No attempt starts later than this many ms after the first attempt started.
   * @default Infinity (`retryDefaults.maxRetryTime`): no limit
   */
  readonly maxRetryTime: number;
  /**
   * May refuse a retry (sync or async); `attempt` is the attempt that just failed, `info` has
   * the stage and the run's signal (teardown does not wait for a pending answer).
   */
  readonly shouldRetry: ((error: unknown, attempt: number, info: HookInfo) => unknown) | undefined;
  /** May name the wait before the next attempt (a `Retry-After`); `undefined` means the back-off. Called like `shouldRetry`. */
  readonly delay: ((error: unknown, attempt: number, info: HookInfo) => unknown) | undefined;
}

/**
 * How a back-off is jittered: `"full"` waits a random part of it (in [0, 1) of it), so the
 * retries of many elements spread out; `"none"` waits exactly it.
 *
 * @example
 * ```ts
 * const jitter: JitterMode = "none";
 * pipe(urls).map(fetchPage, { retry: { retries: 3, jitter } });
 * ```
 */
export type JitterMode = (typeof JITTER_MODES)[number];

/**
 * Every {@link JitterMode}, for validation and error messages.
 *
 * @example
 * ```ts
 * JITTER_MODES.includes("full"); // true
 * ```
 */
export const JITTER_MODES = Object.freeze(["full", "none"] as const);

/**
 * The defaults of a stage's `retry` object, for the fields it leaves out: the one place they
 * are written (the DSL fills them in, the docs quote them).
 *
 * @example
 * ```ts
 * retryDefaults.minDelay; // 200
 * const third = Math.min(retryDefaults.maxDelay, retryDefaults.minDelay * retryDefaults.factor ** 2); // 800: the back-off after attempt 3
 * ```
 */
export const retryDefaults = Object.freeze({
  /** @default 200 */
  minDelay: 200,
  /** @default 30_000 */
  maxDelay: 30_000,
  /** @default 2 */
  factor: 2,
  /** @default "full" */
  jitter: "full",
  /** @default Infinity */
  maxRetryTime: Infinity,
} as const satisfies Partial<RetrySettings>);

/**
 * The largest `retry.factor` a stage accepts: beyond it a back-off reaches `maxDelay` after
 * one or two attempts anyway.
 *
 * @example
 * ```ts
 * pipe(urls).map(fetchPage, { retry: { retries: 3, factor: maxRetryFactor } });
 * ```
 */
export const maxRetryFactor = 1_000;

/**
 * The longest wait a timer honours, in ms: 2^31 - 1 (about 24.8 days). Node and browsers run
 * a longer `setTimeout` after 1 ms instead, so every timer of sluice is capped at this: it is
 * the upper limit of every duration option (`timeout`, `maxWait`, `retry.minDelay`, ...) and
 * of a `retry.delay` result, and a longer wait (a limiter's pause) is waited out in steps of it.
 *
 * @default 2_147_483_647
 * @example
 * ```ts
 * setTimeout(wakeUp, Math.min(ms, maxTimerDelay));
 * ```
 */
export const maxTimerDelay = 2_147_483_647;

/**
 * The validated, complete options of one stage, as the scheduler reads them.
 * The DSL builds these from a user's options (filling defaults); core trusts them.
 *
 * @example
 * ```ts
 * const settings: StageSettings = {
 *   name: "map#1",
 *   workers: 4,
 *   maxsize: defaultMaxsize(4),
 *   timeout: undefined,
 *   onTimeout: "error",
 *   onStart: undefined,
 *   onDone: undefined,
 *   rateLimit: undefined,
 *   onError: "fail",
 *   retry: undefined,
 *   key: undefined,
 *   isPushback: isPushbackError,
 *   cost: undefined,
 *   fallback: undefined,
 * };
 * const node = createStageNode("map", createSourceNode([1, 2]), (x: number) => x * 2, settings);
 * ```
 */
export interface StageSettings {
  /** Shown in errors; `map#2` style by default. */
  readonly name: string;
  /**
   * Calls of `f` in flight at once: an integer >= 1; or, for an adaptive stage, bounds for a
   * limit of its own (per run) or a {@link ConcurrencyLimiter} shared beyond the run
   * ({@link maxWorkers} is the most it may allow, which sizes its queues).
   * @default 1 (`stageDefaults.workers`)
   */
  readonly workers: number | ConcurrencyBounds | ConcurrencyLimiter;
  /**
   * Elements waiting at the stage's input; `0` means unbounded.
   * @default `defaultMaxsize(workers)`
   */
  readonly maxsize: number;
  /** Per-call limit in ms, or `undefined` for none. */
  readonly timeout: number | undefined;
  /**
   * What a timed-out call does to the run.
   * @default "error" (`stageDefaults.onTimeout`)
   */
  readonly onTimeout: TimeoutPolicy;
  /** Called once per stage per run before the first call; its object result joins `ctx`. */
  readonly onStart: ((info: HookInfo) => unknown) | undefined;
  /** Called once per stage per run after the stage's calls have settled. */
  readonly onDone: ((info: HookInfo) => unknown) | undefined;
  /** A limiter shared beyond the run, or a window for a limiter of the stage's own per run. */
  readonly rateLimit: RateLimiter | RateLimitWindow | undefined;
  /**
   * What happens to an element whose call failed, after its retries.
   * @default "fail" (`stageDefaults.onError`)
   */
  readonly onError: ErrorPolicy;
  /** How failed calls are retried, or `undefined` for never. */
  readonly retry: RetrySettings | undefined;
  /**
   * The element's ordering key, or `undefined` for none: calls for elements of one key never
   * overlap and start in arrival order; `null` or `undefined` from it means "no order".
   */
  readonly key: StageKeyFunction | undefined;
  /**
   * Which failed attempts say "slow down" to an adaptive stage.
   * @default {@link isPushbackError}
   */
  readonly isPushback: (error: unknown) => boolean;
  /** The units of the stage's `rateLimit` a call takes, or `undefined` for 1 each. */
  readonly cost: ((element: unknown) => number) | undefined;
  /**
   * The value emitted in place of an element whose call failed, after its retries; `onError`
   * is then not consulted. `undefined` for none (a `map` stage's option).
   */
  readonly fallback: ((failure: ElementError) => unknown) | undefined;
}

/**
 * The bounds of an adaptive limit: it starts at `initial` and stays within `min` to `max`
 * (integers, `1 <= min <= initial <= max`).
 *
 * @example
 * ```ts
 * const bounds: ConcurrencyBounds = { min: 2, max: 32, initial: 8 };
 * pipe(urls).map(fetchPage, { workers: bounds });
 * ```
 */
export interface ConcurrencyBounds {
  /** The lowest the limit goes. */
  readonly min: number;
  /** The highest the limit goes; it sizes the stage's queues as a fixed `workers` would. */
  readonly max: number;
  /** The limit a run starts with. */
  readonly initial: number;
}

/**
 * The most calls a stage's `workers` allows in flight: the number itself, or an adaptive
 * limit's `max` (which sizes the stage's queues, as a fixed `workers` would).
 *
 * @example
 * ```ts
 * maxWorkers(8); // 8
 * maxWorkers(adaptiveDefaults); // 64
 * ```
 */
export function maxWorkers(workers: StageSettings["workers"]): number {
  return typeof workers === "number" ? workers : workers.max;
}

/**
 * The defaults of `workers: "auto"` and of the fields an adaptive `workers` object or
 * `concurrencyLimiter()` leaves out: the one place they are written.
 *
 * @example
 * ```ts
 * adaptiveDefaults.initial; // 4
 * ```
 */
export const adaptiveDefaults = Object.freeze({
  /** @default 1 */
  min: 1,
  /** @default 64 */
  max: 64,
  /** @default 4 */
  initial: 4,
} as const satisfies ConcurrencyBounds);

/**
 * The default `isPushback`: a `TimeoutError` (a stage's `timeout`, or a DOMException from
 * `AbortSignal.timeout()`), or an error whose `status` or `statusCode` is 429 (Too Many
 * Requests) or 503 (Service Unavailable), as HTTP clients put them.
 *
 * @example
 * ```ts
 * isPushbackError(Object.assign(new Error("busy"), { status: 429 })); // true
 * isPushbackError(new Error("not found")); // false
 * ```
 */
export function isPushbackError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, status, statusCode } = error as { name?: unknown; status?: unknown; statusCode?: unknown };
  return name === "TimeoutError" || status === 429 || status === 503 || statusCode === 429 || statusCode === 503;
}

/**
 * A stage's `key` as the scheduler reads it: computed once per element, when the element
 * reaches the stage; keys are compared as `Map` keys are (SameValueZero).
 *
 * @example
 * ```ts
 * const byAccount = ((event: { account: string }) => event.account) as StageKeyFunction;
 * ```
 */
export type StageKeyFunction = (element: never) => unknown;

/**
 * A rate limit of a stage's own: at most `limit` call starts in any rolling `interval` ms.
 *
 * @example
 * ```ts
 * const window: RateLimitWindow = { limit: 10, interval: 1_000 };
 * pipe(urls).map(fetchPage, { workers: 8, rateLimit: window });
 * ```
 */
export interface RateLimitWindow {
  /** Call starts allowed in any rolling window: an integer >= 1. */
  readonly limit: number;
  /** The window's length in ms (> 0). */
  readonly interval: number;
}

/**
 * The function a stage calls per element; the DSL gives it precise types.
 *
 * @example
 * ```ts
 * const double = ((x: number) => x * 2) as StageFunction;
 * ```
 */
export type StageFunction = (value: never, ctx: never) => unknown;

/**
 * The defaults of a stage's options that have a value when left out (the others are
 * `undefined`: no timeout, no hooks, no rate limit, no retries; `maxsize` is
 * {@link defaultMaxsize}). The one place they are written: the DSL and the adapter packages
 * fill them in from here.
 *
 * @example
 * ```ts
 * stageDefaults.workers; // 1
 * defaultMaxsize(stageDefaults.workers); // 16
 * ```
 */
export const stageDefaults = Object.freeze({
  /** @default 1 */
  workers: 1,
  /** @default "error" */
  onTimeout: "error",
  /** @default "fail" */
  onError: "fail",
} as const satisfies Partial<StageSettings>);

/**
 * The default `maxsize` for a stage with `workers` workers: `max(16, workers)`. From the
 * benchmark's sweep (docs/benchmarks.md): under jittery latency a floor of 16 keeps stages
 * within noise of unbounded queues, and from 16 workers up `maxsize = workers` already does,
 * while larger factors only hold more elements.
 *
 * @example
 * ```ts
 * defaultMaxsize(1); // 16
 * defaultMaxsize(100); // 100
 * ```
 */
export function defaultMaxsize(workers: number): number {
  return Math.max(16, workers);
}

/**
 * What a source's `checkpoint.save` receives: the watermark, the `position` of the latest
 * source element such that it and every element before it have settled (docs/behaviour.md §15).
 *
 * @example
 * ```ts
 * const save = async ({ position }: Checkpoint<number>) => writeFile("offset.txt", String(position));
 * ```
 */
export interface Checkpoint<P> {
  /** What the source's `position` returned for the element the watermark stands on. */
  readonly position: P;
}

/**
 * A source's checkpointing, as the scheduler reads it (the DSL fills the defaults): where
 * `position` finds an element's place, and how often `save` is called with the watermark.
 *
 * @example
 * ```ts
 * const settings: CheckpointSettings = {
 *   position: (line) => (line as { end: number }).end,
 *   save: ({ position }) => console.log("resume after", position),
 *   every: 1_000,
 *   interval: undefined,
 * };
 * ```
 */
export interface CheckpointSettings {
  /** The place of a source element (a byte offset, a sequence number): called once per element taken. */
  readonly position: (element: unknown) => unknown;
  /** Called with the watermark; a returned promise is awaited, and no two calls overlap. */
  readonly save: (checkpoint: Checkpoint<unknown>) => void | PromiseLike<void>;
  /** Save once this many elements have settled since the last save (integer >= 1), or `undefined`. */
  readonly every: number | undefined;
  /**
   * Save at most once per this many ms while the watermark moves, or `undefined`.
   * @default 1_000 (`checkpointDefaults.interval`) when neither `every` nor `interval` is given
   */
  readonly interval: number | undefined;
}

/**
 * The default of a checkpoint's `interval`, used when a checkpoint names neither `every`
 * nor `interval`: the one place it is written.
 *
 * @example
 * ```ts
 * checkpointDefaults.interval; // 1_000
 * ```
 */
export const checkpointDefaults = Object.freeze({
  /** @default 1_000 */
  interval: 1_000,
} as const);
