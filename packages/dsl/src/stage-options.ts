import {
  OptionsError,
  RateLimiter,
  TIMEOUT_POLICIES,
  defaultMaxsize,
  describeValue,
  type RateLimitWindow,
  type StageKind,
  type StageSettings,
  type TimeoutPolicy,
} from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { parseOptions, stageOptionsSchema, type ParsedStageOptions } from "./options-schema.js";
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
 * inferred, so `ctx.client` is typed in `f` without annotations.
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
 * });
 * ```
 */
export interface StageOptions<C extends HookContext = {}> {
  /** Calls of `f` in flight at once: an integer >= 1. Default 1. */
  readonly workers?: number;
  /**
   * Elements that may wait at this stage's input: an integer >= 0, `0` meaning unbounded.
   * Default `max(16, workers)` (see docs/benchmarks.md for the evidence).
   */
  readonly maxsize?: number;
  /** Milliseconds a call of `f` may take (> 0). On expiry `ctx.signal` aborts and the call is abandoned. Default: none. */
  readonly timeout?: number;
  /** What a timed-out call does: `"error"` (default) fails the run with a `TimeoutError`; `"skip"` drops the element. */
  readonly onTimeout?: TimeoutPolicy;
  /** Shown in errors: a non-empty string. Default `map#2` style (the method and the stage's depth). */
  readonly name?: string;
  /** Called once per stage per run before the stage's first call; its result is merged into every `ctx` and passed to `onDone`. */
  readonly onStart?: (info: HookInfo) => (C & NotThenable) | PromiseLike<C> | void | PromiseLike<void>;
  /** Called exactly once per stage per run after its calls have settled, on success, error and cancellation alike. Runs only if `onStart` (when given) succeeded. */
  readonly onDone?: (ctx: C & HookInfo) => unknown;
  /**
   * At most `limit` call starts in any rolling `interval` ms: `{ limit, interval }` for a limit
   * of this stage's own (per run), or a {@link RateLimiter} from `rateLimiter()` shared with
   * other stages, pipelines and runs. Waiting elements stay in the stage's queue (backpressure);
   * the wait is not part of `timeout`. Default: none.
   */
  readonly rateLimit?: RateLimitWindow | RateLimiter;
}

/**
 * The function a stage calls: `(element, ctx)`, sync or async.
 *
 * @example
 * ```ts
 * const parse: StageFn<string, number, {}> = (text) => Number.parseInt(text, 10);
 * await pipe(["1", "2"]).map(parse); // [1, 2] in some order
 * ```
 */
export type StageFn<T, R, C extends HookContext> = (value: T, ctx: Context<C>) => R;

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

/** What each option allows, in the words of the error messages. */
const ALLOWED: Readonly<Record<keyof ParsedStageOptions, string>> = {
  workers: "an integer >= 1",
  maxsize: "an integer >= 0 (0 means unbounded)",
  timeout: "a number of milliseconds > 0 (at most 2147483647)",
  onTimeout: `one of ${TIMEOUT_POLICIES.map((policy) => `"${policy}"`).join(", ")}`,
  name: "a non-empty string",
  onStart: "a function",
  onDone: "a function",
  rateLimit: "{ limit: an integer >= 1, interval: milliseconds > 0 } or a RateLimiter",
};

/**
 * Validates `f` and `options` for `method` and completes them into the engine's settings.
 * Throws an {@link OptionsError} naming the method, the option, what was received and
 * what is allowed.
 */
export function resolveStage(method: StageMethod, f: unknown, options: unknown, stageNumber: number): StageSettings {
  if (typeof f !== "function") {
    throw new OptionsError(`${method}(): f must be a function (received ${describeValue(f)})`);
  }
  if (options === undefined) return settings(`${method}#${stageNumber}`, NO_OPTIONS);
  const parsed = parseOptions(stageOptionsSchema, checkObject(method, options));
  if (!parsed.success) throw optionsError(method, options as Record<string, unknown>, parsed.issue, ALLOWED);
  return settings(parsed.data.name ?? `${method}#${stageNumber}`, parsed.data);
}

function settings(name: string, options: ParsedStageOptions): StageSettings {
  return Object.freeze(new ResolvedSettings(name, options));
}

/** A stage's complete settings (a class, not a literal: docs/design.md §14). */
class ResolvedSettings implements StageSettings {
  readonly workers: number;
  readonly maxsize: number;
  readonly timeout: number | undefined;
  readonly onTimeout: TimeoutPolicy;
  readonly onStart: ((info: HookInfo) => unknown) | undefined;
  readonly onDone: ((info: HookInfo) => unknown) | undefined;
  readonly rateLimit: RateLimitWindow | RateLimiter | undefined;

  constructor(
    readonly name: string,
    options: ParsedStageOptions,
  ) {
    this.workers = options.workers ?? 1;
    this.maxsize = options.maxsize ?? defaultMaxsize(this.workers);
    this.timeout = options.timeout;
    this.onTimeout = options.onTimeout ?? "error";
    this.onStart = options.onStart;
    this.onDone = options.onDone;
    this.rateLimit = options.rateLimit;
  }
}

