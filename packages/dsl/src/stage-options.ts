import {
  ConcurrencyLimiter,
  ERROR_POLICIES,
  JITTER_MODES,
  OptionsError,
  type ElementError,
  RateLimiter,
  TIMEOUT_POLICIES,
  adaptiveDefaults,
  defaultMaxsize,
  isPushbackError,
  maxWorkers,
  maxRetryFactor,
  retryDefaults,
  stageDefaults,
  type ConcurrencyBounds,
  type JitterMode,
  type ErrorPolicy,
  type RateLimitWindow,
  type RetrySettings,
  type StageKeyFunction,
  type StageKind,
  type StageSettings,
  type TimeoutPolicy,
} from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { SettingsMemo } from "./settings-memo.js";
import {
  DELAY_ALLOWED,
  DURATION_ALLOWED,
  concurrencyBoundsSchema,
  parseOptions,
  retryOptionsSchema,
  stageOptionsSchema,
  type ParsedStageOptions,
} from "./options-schema.js";
import type { Context, EngineContext, HookInfo } from "./context.js";

/**
 * An object `onStart` may return: any object without the engine's keys
 * (`signal`, `index`, `stage`), which would shadow them in `ctx`.
 *
 * @example
 * ```ts
 * const ok: HookContext = { client: new Client() };
 * // @ts-expect-error: `signal` is the engine's
 * const clash: HookContext = { signal: new AbortController().signal };
 * ```
 */
export type HookContext = object & { readonly [K in keyof EngineContext]?: never };

/**
 * What a synchronous `onStart` result may not be: a thenable. Without this a returned
 * promise would itself satisfy {@link HookContext}, and an async `onStart` returning a
 * reserved key would compile.
 *
 * @example
 * ```ts
 * const context: { client: Client } & NotThenable = { client: new Client() };
 * // @ts-expect-error: a promise is not a context object
 * const promise: NotThenable = Promise.resolve({ client: new Client() });
 * ```
 */
export interface NotThenable {
  /** Absent: an object with a `then` is a promise-like, not a context. */
  readonly then?: never;
}

/**
 * Options of `map`, `filter`, `flatMap` and `each`. `C` is what `onStart` returns; it is
 * inferred, so `ctx.client` is typed in `f` without annotations. `T` is the stage's element
 * type, which `key` and `cost` receive (the stage methods fill it in).
 *
 * @example
 * ```ts
 * pipe(ids).map(fetchUser, {
 *   workers: 16,        // calls of f in flight at once
 *   maxsize: 64,        // elements waiting at this stage's input
 *   timeout: 5_000,     // per call, in ms; ctx.signal aborts on expiry
 *   onTimeout: "skip",  // drop the element instead of failing the run
 *   name: "fetch-users",
 *   onStart: () => ({ client: new Client() }),
 *   onDone: ({ client }) => client.close(),
 *   retry: { retries: 3, minDelay: 100 }, // try a failed call again, after a back-off
 *   onError: "collect", // then keep the failure and go on; the run reports it at the end
 * });
 * ```
 */
export interface StageOptions<C extends HookContext = {}, T = unknown> {
  /**
   * Calls of `f` in flight at once: an integer >= 1; or `"auto"` (bounds `{ min: 1, max: 64,
   * initial: 4 }`), {@link AdaptiveWorkers} bounds, or a {@link ConcurrencyLimiter} from
   * `concurrencyLimiter()`, for a limit that adapts to the service `f` calls: it grows while
   * calls keep their latency and shrinks on push-back (see `isPushback`) or rising latency.
   * @default 1
   */
  readonly workers?: number | "auto" | AdaptiveWorkers | ConcurrencyLimiter;
  /**
   * Which failed attempts of `f` are the service saying "slow down", for an adaptive
   * `workers`: such a failure lowers the limit (the element's own outcome is unchanged:
   * `retry` and `onError` still apply). A call can also say so while succeeding, with `ctx.pushback()`.
   * @default `isPushbackError`: a `TimeoutError`, or an error whose `status` or `statusCode` is 429 or 503
   */
  readonly isPushback?: (error: unknown) => boolean;
  /**
   * How many units of the stage's `rateLimit` a call on `element` takes (a finite number
   * >= 0, say an LLM prompt's estimated tokens); `ctx.charge(units)` adds more once the real
   * cost is known. A call costing more than the whole limit waits for an empty window and
   * runs alone in it. A `cost` that throws or returns anything else fails that element as a
   * failure of `f` would. Needs `rateLimit`.
   * @default undefined: 1 unit per call
   */
  // A method, so that options typed for any element (`StageOptions`) fit every stage.
  cost?(element: T): number;
  /**
   * Elements that may wait at this stage's input: an integer >= 0, `0` meaning unbounded.
   * See docs/benchmarks.md for the evidence behind the default.
   * @default `max(16, workers)` (`defaultMaxsize(workers)`)
   */
  readonly maxsize?: number;
  /**
   * Milliseconds a call of `f` may take (> 0, at most `maxTimerDelay`). On expiry `ctx.signal`
   * aborts and the call is abandoned.
   * @default undefined: no limit
   */
  readonly timeout?: number;
  /**
   * What a timed-out call does: `"error"` fails the run with a `TimeoutError`; `"skip"` drops the element.
   * @default "error"
   */
  readonly onTimeout?: TimeoutPolicy;
  /**
   * Shown in errors: a non-empty string.
   * @default `map#2` style: the method and the stage's depth
   */
  readonly name?: string;
  /** Called once per stage per run before the stage's first call; its result is merged into every `ctx` and passed to `onDone`. */
  readonly onStart?: (info: HookInfo) => (C & NotThenable) | PromiseLike<C> | void | PromiseLike<void>;
  /** Called exactly once per stage per run after its calls have settled, on success, error and cancellation alike. Runs only if `onStart` (when given) succeeded. */
  readonly onDone?: (ctx: C & HookInfo) => unknown;
  /**
   * At most `limit` call starts in any rolling `interval` ms: `{ limit, interval }` for a limit
   * of this stage's own (per run), or a {@link RateLimiter} from `rateLimiter()` shared with
   * other stages, pipelines and runs. Waiting elements stay in the stage's queue (backpressure);
   * the wait is not part of `timeout`.
   * @default undefined: no limit
   */
  readonly rateLimit?: RateLimitWindow | RateLimiter;
  /**
   * What a failure of `f` on one element does once its retries are used up: `"fail"`
   * fails the run; `"skip"` drops the element; `"collect"` drops it and keeps an
   * {@link ElementError} that the run reports at its end (`ElementErrors`, or
   * `toResult().errors`); a function is called with the {@link ElementError}, then the
   * element is dropped (a throw or rejection from it fails the run). Only `f`'s own
   * failures count: a throw, a rejection, a timeout under `onTimeout: "error"`, an invalid
   * element in `parse`.
   * @default "fail"
   */
  readonly onError?: ErrorPolicy;
  /**
   * Retries a failed call of `f` on the same element, keeping its worker slot while it waits:
   * a number of retries, or {@link RetryOptions} for the back-off. Each attempt gets a fresh
   * `ctx.signal`, its own `timeout`, and `ctx.attempt` (1-based).
   * @default undefined: no retries
   */
  readonly retry?: number | RetryOptions;
  /**
   * Per-key order: the key of an element (an account id, an order id, a file name), computed
   * once when the element reaches the stage. Calls for elements of one key never overlap and
   * start in the order the elements arrived; elements of other keys run beside them, up to
   * `workers` calls in all. `null` or `undefined` means the element has no order. Elements
   * waiting behind a busy key count toward `maxsize`, and a key is held through retries and
   * back-offs until its element is finished with (a timed-out call frees it at the timeout).
   * Keys are compared as `Map` keys are. A key function that throws fails the element, as `f`
   * would, without retries.
   * @default undefined: no order between calls
   */
  readonly key?: (element: T) => PropertyKey | null | undefined;
}

/**
 * The bounds of an adaptive `workers`: the limit starts at `initial` and moves within `min`
 * to `max` (integers >= 1, `min <= initial <= max`); `max` also sizes the stage's queues, as
 * a fixed `workers` would.
 *
 * @example
 * ```ts
 * pipe(urls).map(fetchPage, { workers: { min: 2, max: 32 } satisfies AdaptiveWorkers });
 * ```
 */
export interface AdaptiveWorkers {
  /**
   * The lowest the limit goes.
   * @default 1
   */
  readonly min?: number;
  /**
   * The highest the limit goes.
   * @default 64
   */
  readonly max?: number;
  /**
   * The limit a run starts with.
   * @default 4, or `min`/`max` when 4 is outside them
   */
  readonly initial?: number;
}

/**
 * The `fallback` option of `map` and `tap`: the value emitted in place of an element whose
 * call failed once its retries are used up (RxJS `catchError`, Effect `orElse`), instead of
 * dropping it or failing the run. It receives the {@link ElementError} (its `value` is the
 * element, typed `T`) and may be async; the stage's output type becomes `U | R`. The element
 * is counted `done` and `recovered` in the stats, and an element of an acknowledged source
 * settles `done` once its replacement is delivered. A throw or rejection from `fallback`
 * fails the run, as one from an `onError` handler does. With a `fallback`, `onError` is never
 * consulted, so giving both is an `OptionsError`.
 *
 * @example
 * ```ts
 * const prices = await pipe(skus).map(fetchPrice, {
 *   retry: 2,
 *   fallback: (failure) => ({ sku: failure.value, price: null }),
 * }); // (Price | { sku: string; price: null })[]
 * ```
 */
export interface FallbackOptions<T, R> {
  /** Called with an element's last failure; what it returns (or resolves to) is emitted instead. */
  readonly fallback?: (failure: ElementError<T>) => R | PromiseLike<R>;
}

/**
 * How a stage retries a failed call of `f`: `retries` more attempts, waiting
 * `min(maxDelay, minDelay * factor ** (attempt - 1))` ms after failed attempt `attempt`,
 * times a random factor in [0, 1) unless `jitter` is `"none"`. Timeouts count as failures;
 * `OptionsError`s, `ValidationError`s and teardown never retry, nor does a `flatMap` call
 * that already emitted.
 *
 * @example
 * ```ts
 * const retry: RetryOptions = {
 *   retries: 4,
 *   minDelay: 100,
 *   shouldRetry: (error) => !(error instanceof HttpError && error.status < 500),
 *   delay: (error) => (error instanceof HttpError ? error.retryAfterMs : undefined),
 * };
 * pipe(urls).map(fetchPage, { workers: 8, retry });
 * ```
 */
export interface RetryOptions {
  /** Attempts after the first: an integer >= 0. */
  readonly retries: number;
  /**
   * The first back-off in ms (>= 0, at most `maxTimerDelay`).
   * @default 200
   */
  readonly minDelay?: number;
  /**
   * The longest back-off in ms (>= 0, at most `maxTimerDelay`).
   * @default 30_000
   */
  readonly maxDelay?: number;
  /**
   * How much each back-off grows (1 to `maxRetryFactor`, 1000).
   * @default 2
   */
  readonly factor?: number;
  /**
   * `"full"` waits a random part of each back-off, so retries of many elements spread out; `"none"` waits exactly it.
   * @default "full"
   */
  readonly jitter?: JitterMode;
  /**
   * No attempt starts later than this many ms after the element's first attempt started (> 0).
   * @default Infinity: no limit
   */
  readonly maxRetryTime?: number;
  /**
   * May refuse a retry: called with the error, the attempt that just failed (1-based) and the
   * stage's {@link HookInfo} (its name and the run's `signal`); sync or async. The element keeps
   * its slot while the answer is pending, but teardown does not wait for it: the signal
   * aborts and a later answer is ignored.
   */
  readonly shouldRetry?: (error: unknown, attempt: number, info: HookInfo) => boolean | PromiseLike<boolean>;
  /**
   * May name the wait before the next attempt in ms (say, from a `Retry-After` header), or
   * return `undefined` for the back-off. Called like `shouldRetry`, and not waited for past teardown either.
   */
  readonly delay?: (error: unknown, attempt: number, info: HookInfo) => number | undefined | PromiseLike<number | undefined>;
}

// NoInfer: were C inferred from f too, `(id, signal?: AbortSignal)` would infer C = AbortSignal and compile.
/**
 * The function a stage calls: `(element, ctx)`, sync or async. Its second parameter must
 * accept the stage's `ctx` ({@link Context}`<C>`, `C` being what `onStart` returns): it may
 * be left out, inferred, or typed wider (`object`, `unknown`, `EngineContext`), but a
 * function expecting something else there, such as `(id: string, signal?: AbortSignal)`, is
 * a type error rather than a call with the wrong argument at run time. `C` is taken from
 * `onStart` alone, never from `f`.
 *
 * @example
 * ```ts
 * const parse: StageFn<string, number, {}> = (text) => Number.parseInt(text, 10);
 * await pipe(["1", "2"]).map(parse); // [1, 2] in some order
 *
 * declare function fetchUser(id: string, signal?: AbortSignal): Promise<User>;
 * // @ts-expect-error: ctx is not an AbortSignal
 * pipe(ids).map(fetchUser);
 * pipe(ids).map((id, { signal }) => fetchUser(id, signal)); // pass ctx.signal instead
 * ```
 */
export type StageFn<T, R, C extends HookContext> = (value: T, ctx: Context<NoInfer<C>>) => R;

/**
 * A type guard a `filter` stage calls: `(element, ctx) => element is S`, narrowing the
 * pipeline to `S`. Its second parameter follows the rule of {@link StageFn}.
 *
 * @example
 * ```ts
 * const isNumber: StageGuard<unknown, number, {}> = (x): x is number => typeof x === "number";
 * await pipe([1, "a", 2]).filter(isNumber); // number[]: [1, 2] in some order
 * ```
 */
export type StageGuard<T, S extends T, C extends HookContext> = (value: T, ctx: Context<NoInfer<C>>) => value is S;

/**
 * The methods that take stage options, for error messages.
 *
 * @example
 * ```ts
 * const method: StageMethod = "flatMap"; // as in "flatMap(): options.workers must be ..."
 * ```
 */
export type StageMethod = StageKind;

const NO_OPTIONS: ParsedStageOptions = Object.freeze({});

/** What each field of `retry` allows. */
const RETRY_ALLOWED: Readonly<Record<keyof RetryOptions, string>> = {
  retries: "an integer >= 0",
  minDelay: DELAY_ALLOWED,
  maxDelay: DELAY_ALLOWED,
  factor: `a number from 1 to ${maxRetryFactor}`,
  jitter: JITTER_MODES.map((mode) => `"${mode}"`).join(" or "),
  maxRetryTime: DURATION_ALLOWED,
  shouldRetry: "a function",
  delay: "a function",
};

/** What each field of an adaptive `workers` (and of `concurrencyLimiter()`'s options) allows. */
export const BOUNDS_ALLOWED: Readonly<Record<keyof AdaptiveWorkers, string>> = {
  min: "an integer >= 1",
  max: "an integer >= 1",
  initial: "an integer >= 1",
};

/**
 * Checks adaptive bounds for `method` (`where` is their path in its arguments) and fills
 * their defaults: `initial` defaults to 4 kept within `min` and `max`. Throws an
 * {@link OptionsError} for a bad field, `min > max`, or an `initial` outside them.
 */
export function resolveBounds(method: string, bounds: object, where: readonly string[]): ConcurrencyBounds {
  const parsed = parseOptions(concurrencyBoundsSchema, bounds);
  if (!parsed.success) throw optionsError(method, bounds as Record<string, unknown>, parsed.issue, BOUNDS_ALLOWED, where);
  const min = parsed.data.min ?? adaptiveDefaults.min;
  const max = parsed.data.max ?? adaptiveDefaults.max;
  if (min > max) throw OptionsError.invalid(method, [...where, "min"], `at most max (${max})`, min);
  const initial = parsed.data.initial ?? Math.min(max, Math.max(min, adaptiveDefaults.initial));
  if (initial < min || initial > max) throw OptionsError.invalid(method, [...where, "initial"], `from min (${min}) to max (${max})`, initial);
  return Object.freeze({ min, max, initial });
}

/** Every form of `workers`, in the words of the error messages. */
const WORKERS_FORMS = `an integer >= 1, "auto", { ${Object.keys(BOUNDS_ALLOWED).join(", ")} } or a ConcurrencyLimiter`;

/** `"a", "b"` for the messages of a list of named policies. */
const quoted = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(", ");

/** What each option of every stage method allows, in the words of the error messages. */
const ALLOWED: Readonly<Record<Exclude<keyof ParsedStageOptions, "fallback">, string>> = {
  workers: "an integer >= 1",
  maxsize: "an integer >= 0 (0 means unbounded)",
  timeout: DURATION_ALLOWED,
  onTimeout: `one of ${quoted(TIMEOUT_POLICIES)}`,
  name: "a non-empty string",
  onStart: "a function",
  onDone: "a function",
  rateLimit: "{ limit: an integer >= 1, interval: milliseconds > 0 } or a RateLimiter",
  onError: `one of ${quoted(ERROR_POLICIES)}, or a function`,
  isPushback: "a function",
  cost: "a function",
  retry: `an integer >= 0 (the number of retries) or { ${Object.keys(RETRY_ALLOWED).join(", ")} }`,
  key: "a function",
};

/** The options of the methods that take a `fallback` (`map` and `tap`: they emit one value per element). */
const FALLBACK_ALLOWED: Readonly<Record<keyof ParsedStageOptions, string>> = { ...ALLOWED, fallback: "a function" };

/**
 * Validates `f` and `options` for `method` and completes them into the engine's settings.
 * Throws an {@link OptionsError} naming the method, the option, what was received and
 * what is allowed.
 */
export function resolveStage(method: StageMethod | "parse" | "tap", f: unknown, options: unknown, stageNumber: number): StageSettings {
  if (typeof f !== "function") throw OptionsError.invalid(method, ["f"], "a function", f);
  const given = options === undefined ? undefined : checkObject(method, options);
  const memo = MEMOS[method];
  const known = memo.find(given, stageNumber);
  if (known !== undefined) return known;
  const takesFallback = method === "map" || method === "tap";
  if (given !== undefined && !takesFallback) refuseFallback(method, given);
  const parsed = given === undefined ? NO_OPTIONS : parseStageOptions(method, given, takesFallback ? FALLBACK_ALLOWED : ALLOWED);
  const resolved = settings(method, parsed.name ?? `${method}#${stageNumber}`, parsed);
  memo.remember(given, stageNumber, resolved);
  return resolved;
}

/** The options each method resolved last, so that building the same pipeline again does not validate them again. */
const MEMOS: Readonly<Record<StageMethod | "parse" | "tap", SettingsMemo>> = {
  map: new SettingsMemo(),
  tap: new SettingsMemo(),
  filter: new SettingsMemo(),
  flatMap: new SettingsMemo(),
  each: new SettingsMemo(),
  parse: new SettingsMemo(),
};

/** Only `map` and `tap` replace an element with one value: elsewhere `fallback` is not an option. */
function refuseFallback(method: string, given: object): void {
  if (Object.prototype.hasOwnProperty.call(given, "fallback")) {
    const fallback = (given as { fallback?: unknown }).fallback;
    throw OptionsError.notAnOption(method, ["options", "fallback"], Object.keys(ALLOWED), fallback, "only map() and tap() take one");
  }
}

/**
 * Validates a stage's options as `map`, `filter`, `flatMap` and `each` do, under the name of
 * `method`, and returns them complete, every default filled in (`name` is `options.name`, or
 * `method`). For a function of another package that builds a stage and takes the stage's
 * options among its own, so that its users get the same checks and messages
 * (`mapOnThreads(): options.workers must be an integer >= 1 (received 0)`) and it reads the
 * defaults instead of writing them again. Throws an {@link OptionsError}.
 *
 * @param method - the function whose options these are, named in errors
 * @param options - its options object
 * @param keys - `own`: the function's own options, which it checks itself (skipped here, and
 *   listed when a key is not an option); `without`: stage options the function does not take
 * @example
 * ```ts
 * export function mapOnPool<T, U>(f: (x: T) => U, options: StageOptions & { pool?: Pool } = {}): Operator<T, U> {
 *   const settings = resolveStageOptions("mapOnPool", options, { own: ["pool"], without: ["onStart", "onDone"] });
 *   const pool = options.pool ?? new Pool({ size: settings.workers });
 *   const { pool: _, ...stageOptions } = options;
 *   return map((x: T) => pool.run(() => f(x)), stageOptions);
 * }
 * ```
 */
export function resolveStageOptions(method: string, options: unknown, keys: StageOptionKeys = {}): StageSettings {
  const given = checkObject(method, options) as Record<string, unknown>;
  const own = keys.own ?? [];
  const without = keys.without ?? [];
  const allowed: Record<string, string> = {};
  for (const key of Object.keys(FALLBACK_ALLOWED) as (keyof ParsedStageOptions)[]) if (!without.includes(key)) allowed[key] = FALLBACK_ALLOWED[key];
  for (const key of own) allowed[key] = ""; // listed in messages only: the caller checks them
  for (const key of without) {
    if (Object.prototype.hasOwnProperty.call(given, key)) throw OptionsError.notAnOption(method, ["options", key], Object.keys(allowed), given[key]);
  }
  let stage: Record<string, unknown> = given;
  if (own.some((key) => Object.prototype.hasOwnProperty.call(given, key))) {
    stage = { ...given };
    for (const key of own) delete stage[key];
  }
  const parsed = parseStageOptions(method, stage, allowed);
  return settings(method, parsed.name ?? method, parsed);
}

/**
 * Which keys of an options object {@link resolveStageOptions} checks: all the stage's options,
 * except those in `without`, and none of those in `own`.
 *
 * @example
 * ```ts
 * const keys: StageOptionKeys = { own: ["threads", "pool", "transfer"], without: ["onStart", "onDone"] };
 * ```
 */
export interface StageOptionKeys {
  /** The caller's own options: checked by the caller, skipped here, listed in the "options are" of an unknown key. */
  readonly own?: readonly string[];
  /** Stage options the caller does not take: given, they are not an option. */
  readonly without?: readonly (keyof StageOptions | "fallback")[];
}

/** Parses a stage's options object, then the object form of its `retry`, for `method`'s errors. */
function parseStageOptions(method: string, options: object, allowed: Readonly<Record<string, string>>): ParsedStageOptions {
  const parsed = parseOptions(stageOptionsSchema, options);
  if (!parsed.success) {
    const given = options as Record<string, unknown>;
    // A bad count is told what a count may be; anything else, every form workers takes.
    const words = parsed.issue.path[0] === "workers" && typeof given.workers !== "number" ? { ...allowed, workers: WORKERS_FORMS } : allowed;
    throw optionsError(method, given, parsed.issue, words);
  }
  const { fallback, onError } = parsed.data;
  // A fallback takes the place of onError: given both, one of them would be ignored.
  if (fallback !== undefined && onError !== undefined) {
    throw OptionsError.invalid(method, ["options", "onError"], "absent when options.fallback is given", onError);
  }
  const retry = parsed.data.retry;
  if (typeof retry === "object") {
    const fields = retry as Record<string, unknown>;
    const checked = parseOptions(retryOptionsSchema, fields);
    if (!checked.success) throw optionsError(method, fields, checked.issue, RETRY_ALLOWED, ["options", "retry"]);
  }
  if (parsed.data.cost !== undefined && parsed.data.rateLimit === undefined) {
    throw OptionsError.invalid(method, ["options", "cost"], "given with a rateLimit", parsed.data.cost, "a cost is counted in units of the stage's rateLimit");
  }
  return parsed.data;
}

/** The adaptive part of a stage's `workers`, or `undefined` for a fixed count. */
function adaptiveOf(method: string, workers: ParsedStageOptions["workers"]): ConcurrencyBounds | ConcurrencyLimiter | undefined {
  if (workers === undefined || typeof workers === "number") return undefined;
  if (workers === "auto") return adaptiveDefaults;
  return workers instanceof ConcurrencyLimiter ? workers : resolveBounds(method, workers, ["options", "workers"]);
}

function settings(method: string, name: string, options: ParsedStageOptions): StageSettings {
  return Object.freeze(new ResolvedSettings(name, options, adaptiveOf(method, options.workers)));
}

/** A stage's complete settings (a class, not a literal: docs/design.md §14). */
class ResolvedSettings implements StageSettings {
  readonly workers: number | ConcurrencyBounds | ConcurrencyLimiter;
  readonly maxsize: number;
  readonly timeout: number | undefined;
  readonly onTimeout: TimeoutPolicy;
  readonly onStart: ((info: HookInfo) => unknown) | undefined;
  readonly onDone: ((info: HookInfo) => unknown) | undefined;
  readonly rateLimit: RateLimitWindow | RateLimiter | undefined;
  readonly onError: ErrorPolicy;
  readonly retry: RetrySettings | undefined;
  readonly key: StageKeyFunction | undefined;
  readonly isPushback: (error: unknown) => boolean;
  readonly cost: ((element: unknown) => number) | undefined;
  readonly fallback: ((failure: ElementError) => unknown) | undefined;

  constructor(
    readonly name: string,
    options: ParsedStageOptions,
    adaptive: ConcurrencyBounds | ConcurrencyLimiter | undefined,
  ) {
    this.workers = adaptive ?? (options.workers as number | undefined) ?? stageDefaults.workers;
    // An adaptive stage holds up to `max` calls, so its queues are sized as for that many workers.
    this.maxsize = options.maxsize ?? defaultMaxsize(maxWorkers(this.workers));
    this.timeout = options.timeout;
    this.onTimeout = options.onTimeout ?? stageDefaults.onTimeout;
    this.onStart = options.onStart;
    this.onDone = options.onDone;
    this.rateLimit = options.rateLimit;
    this.onError = options.onError ?? stageDefaults.onError;
    this.retry = options.retry === undefined ? undefined : new ResolvedRetry(typeof options.retry === "number" ? { retries: options.retry } : (options.retry as RetryOptions));
    this.key = options.key;
    this.isPushback = (options.isPushback as ((error: unknown) => boolean) | undefined) ?? isPushbackError;
    this.cost = options.cost as ((element: unknown) => number) | undefined;
    this.fallback = options.fallback;
  }
}

/** A stage's complete retry policy, defaults filled in (docs/behaviour.md §10). */
class ResolvedRetry implements RetrySettings {
  readonly retries: number;
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: JitterMode;
  readonly maxRetryTime: number;
  readonly shouldRetry: RetrySettings["shouldRetry"];
  readonly delay: RetrySettings["delay"];

  constructor(options: RetryOptions) {
    this.retries = options.retries;
    this.minDelay = options.minDelay ?? retryDefaults.minDelay;
    this.maxDelay = options.maxDelay ?? retryDefaults.maxDelay;
    this.factor = options.factor ?? retryDefaults.factor;
    this.jitter = options.jitter ?? retryDefaults.jitter;
    this.maxRetryTime = options.maxRetryTime ?? retryDefaults.maxRetryTime;
    this.shouldRetry = options.shouldRetry;
    this.delay = options.delay;
    Object.freeze(this);
  }
}

