import { describeValue } from "./describe-value.js";

/**
 * Thrown when a stage is given options it cannot run with: a bad `workers`, `maxsize`,
 * `timeout` or `onTimeout`, an unknown option key, a non-function `f` or hook, or an
 * `onStart` result that uses a reserved context key.
 *
 * The message names the method, the option, what was received and what is allowed; the same
 * facts are fields, for a program: {@link OptionsError.method} and {@link OptionsError.issues}.
 *
 * @example
 * ```ts
 * try {
 *   pipe([1, 2]).map((x) => x, { workers: 0 });
 * } catch (error) {
 *   error instanceof OptionsError; // true
 *   error.message; // "map(): options.workers must be an integer >= 1 (received 0)"
 *   error.method; // "map"
 *   error.issues; // [{ path: ["options", "workers"], expected: "an integer >= 1", received: 0, message: "options.workers must be ..." }]
 * }
 * ```
 */
export class OptionsError extends TypeError {
  /** Always `"OptionsError"`. */
  override readonly name = "OptionsError";
  /**
   * Who found the problem, as the message begins with it: the function called (`"map"`,
   * `"toArray"`, `"mapOnThreads"`), or a stage's name (`"map#1"`) for a problem found while a
   * run starts the stage (an `onStart` result). `undefined` for an error made from a message alone.
   */
  declare readonly method: string | undefined;
  /**
   * What was wrong, as data: validation stops at the first problem, so sluice's own errors
   * hold one issue. Empty for an error made from a message alone.
   */
  declare readonly issues: readonly OptionsIssue[];

  /**
   * Creates the error with `message`; `options.method` and `options.issues` give the same
   * facts as data (see {@link OptionsError.invalid} and {@link OptionsError.notAnOption}).
   */
  constructor(message: string, options?: OptionsErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // Not enumerable, like `message` and `cause`: an error compared by its own enumerable
    // properties (`toThrow(new OptionsError(text))`, `assert.throws`) still matches on its message.
    Object.defineProperties(this, {
      method: { value: options?.method, writable: false, enumerable: false, configurable: true },
      issues: { value: Object.freeze(options?.issues === undefined ? [] : [...options.issues]), writable: false, enumerable: false, configurable: true },
    });
  }

  /**
   * The error for one value that is not allowed, in the form
   * `map(): options.workers must be an integer >= 1 (received 0)`: `path` from the argument
   * (`["options", "workers"]`, `["f"]`), `expected` in words, the value as `received`, and
   * optionally why the limit exists (`because`, after the expectation).
   *
   * @example
   * ```ts
   * throw OptionsError.invalid("enqueue", ["options", "origin"], "a function", options.origin);
   * // enqueue(): options.origin must be a function (received undefined)
   * ```
   */
  static invalid(method: string, path: readonly PropertyKey[], expected: string, received: unknown, because?: string): OptionsError {
    const message = `${pathText(path)} must be ${expected}${because === undefined ? "" : `: ${because}`} (received ${describeValue(received)})`;
    return new OptionsError(`${method}(): ${message}`, { method, issues: [{ path, expected, received, message }] });
  }

  /**
   * The error for a key that is not an option, in the form
   * `map(): options.worker is not an option (options are: workers, maxsize, ...)`, or with
   * `because` instead of the list (`options.onStart is not an option: the stage's hooks ...`).
   *
   * @example
   * ```ts
   * throw OptionsError.notAnOption("onThreads", ["options", "workers"], ["name", "transfer"], 2);
   * // onThreads(): options.workers is not an option (options are: name, transfer)
   * ```
   */
  static notAnOption(method: string, path: readonly PropertyKey[], options: readonly string[], received: unknown, because?: string): OptionsError {
    const list = `options are: ${options.join(", ")}`;
    const message = `${pathText(path)} is not an option${because === undefined ? ` (${list})` : `: ${because}`}`;
    return new OptionsError(`${method}(): ${message}`, { method, issues: [{ path, expected: `absent (${list})`, received, message }] });
  }
}

/**
 * One problem an {@link OptionsError} reports, as zod's issues report one: where, what was
 * expected, what was received, and the sentence that says so.
 *
 * @example
 * ```ts
 * const issue: OptionsIssue = {
 *   path: ["options", "retry", "retries"],
 *   expected: "an integer >= 0",
 *   received: undefined,
 *   message: "options.retry.retries must be an integer >= 0 (received undefined)",
 * };
 * ```
 */
export interface OptionsIssue {
  /**
   * Where the value is, starting from the argument's name: `["options", "workers"]`,
   * `["options", "retry", "retries"]`, `["f"]`, `["size"]`; `[]` for a value that is no argument
   * (what `onStart` returned).
   */
  readonly path: readonly PropertyKey[];
  /** What is allowed there, in the words of the message (`"an integer >= 1"`); `"absent (options are: ...)"` for a key that is not an option. */
  readonly expected: string;
  /** The value found there, as given (`undefined` for a required key that is missing). */
  readonly received: unknown;
  /** The problem in words, without the method: `options.workers must be an integer >= 1 (received 0)`. */
  readonly message: string;
}

/**
 * What an {@link OptionsError} is made with besides its message.
 *
 * @example
 * ```ts
 * const options: OptionsErrorOptions = { method: "map", issues: [issue] };
 * throw new OptionsError(`map(): ${issue.message}`, options);
 * ```
 */
export interface OptionsErrorOptions {
  /** See {@link OptionsError.method}. */
  readonly method?: string | undefined;
  /** See {@link OptionsError.issues}. */
  readonly issues?: readonly OptionsIssue[] | undefined;
  /** The error that caused this one, as `Error`'s `cause`. */
  readonly cause?: unknown;
}

/** `options.retry.retries` for a path, `[0]` style for an index. */
function pathText(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : text === "" ? String(key) : `.${String(key)}`;
  return text;
}

/**
 * The error a run fails with when a call of `f` takes longer than the stage's `timeout`
 * and the stage's `onTimeout` is `"error"` (the default).
 *
 * @example
 * ```ts
 * try {
 *   await pipe([1]).map(() => sleep(1000), { timeout: 10 });
 * } catch (error) {
 *   if (error instanceof TimeoutError) console.log(error.stage, error.timeout); // "map#1" 10
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `"TimeoutError"`. */
  override readonly name = "TimeoutError";
  /** The name of the stage whose call timed out. */
  readonly stage: string;
  /** The stage's limit, in milliseconds. */
  readonly timeout: number;
  /** The index path of the element whose call timed out. */
  readonly index: readonly number[];

  /** Creates the error for a call of `stage` that ran past `timeout` ms on element `index`. */
  constructor(stage: string, timeout: number, index: readonly number[]) {
    super(`${stage}: a call of f timed out after ${timeout} ms (element [${index.join(", ")}])`);
    this.stage = stage;
    this.timeout = timeout;
    this.index = index;
  }
}

/**
 * One element that a stage gave up on: a call of `f` that threw, rejected or timed out (with
 * `onTimeout: "error"`), or an element `parse` found invalid, after its retries were used up.
 * A stage's `onError` handler receives it; `"collect"` keeps it for {@link ElementErrors}; a
 * `map` stage's `fallback` receives it typed: `T` is the stage's input element type.
 *
 * @example
 * ```ts
 * await pipe(urls).map(fetchPage, {
 *   retry: 2,
 *   onError: (failure: ElementError) => console.warn(failure.stage, failure.index, failure.attempts, failure.error),
 * });
 * ```
 */
export class ElementError<T = unknown> extends Error {
  /** Always `"ElementError"`. */
  override readonly name = "ElementError";
  /** What the last attempt threw or rejected with, as the same object. */
  readonly error: unknown;
  /** The stage's input element that failed. */
  readonly value: T;
  /** The name of the stage that gave up on the element. */
  readonly stage: string;
  /** The element's index path. */
  readonly index: readonly number[];
  /** How many calls of `f` were made on the element (1 without retries). */
  readonly attempts: number;

  /** Describes the failure of `value` (at `index`) in `stage` after `attempts` calls, whose last failed with `error`. */
  constructor(error: unknown, value: T, stage: string, index: readonly number[], attempts: number) {
    super(`${stage}: element [${index.join(", ")}] failed${attempts > 1 ? ` after ${attempts} attempts` : ""}: ${messageOf(error)}`, {
      cause: error,
    });
    this.error = error;
    this.value = value;
    this.stage = stage;
    this.index = index;
    this.attempts = attempts;
  }
}

/**
 * What a run that collected element failures (`onError: "collect"`) rejects with when it ends:
 * `errors` holds the failures in arrival order, and `results` the elements that made it
 * through when the way of consuming collects them (`await`, `toArray()`); `for await` throws
 * it after the last element. Also what a run fails with once more than `maxErrors` failures
 * were collected. `pipeline.toResult()` resolves with both lists instead.
 *
 * @example
 * ```ts
 * try {
 *   await pipe(urls).map(fetchPage, { onError: "collect" });
 * } catch (error) {
 *   if (error instanceof ElementErrors) console.log(error.results.length, "fetched,", error.errors.length, "failed");
 * }
 * ```
 */
export class ElementErrors<T = unknown> extends AggregateError {
  /** Always `"ElementErrors"`. */
  override readonly name = "ElementErrors";
  /** The collected failures, in the order they happened. */
  declare readonly errors: ElementError[];
  /** The elements delivered, for `await` and `toArray()`; empty for `run()` and `for await`. */
  readonly results: T[];

  /** Gathers `errors` (and the `results` the run delivered); `message` says why the run ended so. */
  constructor(errors: ElementError[], results: T[], message: string) {
    super(errors, message);
    this.results = results;
  }
}

/**
 * Thrown by `pipeline.parse(schema)` for an element that the schema rejects: an element
 * failure, handled by the stage's `onError` (by default it fails the run). Never retried.
 *
 * @example
 * ```ts
 * const { errors } = await pipe(rows).parse(UserSchema, { onError: "collect" }).toResult();
 * for (const failure of errors) {
 *   const invalid = failure.error as ValidationError;
 *   console.log(invalid.index, invalid.issues.map((issue) => issue.message));
 * }
 * ```
 */
export class ValidationError extends Error {
  /** Always `"ValidationError"`. */
  override readonly name = "ValidationError";
  /** What the schema reported, as it reported it (Standard Schema issues: `message`, `path`). */
  readonly issues: readonly ValidationIssue[];
  /** The name of the parse stage. */
  readonly stage: string;
  /** The element's index path. */
  readonly index: readonly number[];
  /** The invalid element. */
  readonly value: unknown;

  /** Describes `value` (at `index`), which `stage`'s schema rejected with `issues`. */
  constructor(issues: readonly ValidationIssue[], stage: string, index: readonly number[], value: unknown) {
    const first = issues[0];
    const where = first?.path !== undefined && first.path.length > 0 ? ` at ${first.path.map(pathKey).join(".")}` : "";
    super(
      `${stage}: element [${index.join(", ")}] is invalid${where}: ${first?.message ?? "rejected by the schema"}` +
        (issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})` : ""),
    );
    this.issues = issues;
    this.stage = stage;
    this.index = index;
    this.value = value;
  }
}

/**
 * One problem a Standard Schema validator reported: a message and, when it concerns a part of
 * the element, the path to it.
 *
 * @example
 * ```ts
 * const issue: ValidationIssue = { message: "Expected number", path: ["age"] };
 * ```
 */
export interface ValidationIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys (or `{ key }` segments) from the element's root. */
  readonly path?: ReadonlyArray<PropertyKey | ValidationPathSegment> | undefined;
}

/**
 * One step of a {@link ValidationIssue}'s path, in the object form some validators use.
 *
 * @example
 * ```ts
 * const segment: ValidationPathSegment = { key: "email" };
 * ```
 */
export interface ValidationPathSegment {
  /** The property or index stepped into. */
  readonly key: PropertyKey;
}

function pathKey(segment: PropertyKey | ValidationPathSegment): string {
  return String(typeof segment === "object" ? segment.key : segment);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message === "" ? error.name : `${error.name}: ${error.message}`;
  return describeValue(error);
}

/**
 * What a run rejects with when it was drained (the `drain` run option) and had not finished
 * within `drainTimeout` ms: what was still in flight was then torn down, as by `signal`
 * (an acknowledged source's open elements settle `released`).
 *
 * @example
 * ```ts
 * try {
 *   await pipeline.run({ drain: controller.signal, drainTimeout: 10_000 });
 * } catch (error) {
 *   if (error instanceof DrainTimeoutError) console.warn(`gave up draining after ${error.timeout} ms`);
 * }
 * ```
 */
export class DrainTimeoutError extends Error {
  /** Always `"DrainTimeoutError"`. */
  override readonly name = "DrainTimeoutError";
  /** The run's `drainTimeout`, in milliseconds. */
  readonly timeout: number;

  /** Creates the error for a drain that took longer than `timeout` ms. */
  constructor(timeout: number) {
    super(`the run did not finish draining within ${timeout} ms (drainTimeout): what was left was torn down`);
    this.timeout = timeout;
  }
}
