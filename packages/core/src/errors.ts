/**
 * Thrown when a stage is given options it cannot run with: a bad `workers`, `maxsize`,
 * `timeout` or `onTimeout`, an unknown option key, a non-function `f` or hook, or an
 * `onStart` result that uses a reserved context key.
 *
 * The message names the method, the option, what was received and what is allowed.
 *
 * @example
 * ```ts
 * try {
 *   pipe([1, 2]).map((x) => x, { workers: 0 });
 * } catch (error) {
 *   error instanceof OptionsError; // true
 *   error.message; // "map(): options.workers must be an integer >= 1 (received 0)"
 * }
 * ```
 */
export class OptionsError extends TypeError {
  /** Always `"OptionsError"`. */
  override readonly name = "OptionsError";
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
    super(`${stage}: a call of f timed out after ${timeout} ms (element index [${index.join(", ")}])`);
    this.stage = stage;
    this.timeout = timeout;
    this.index = index;
  }
}
