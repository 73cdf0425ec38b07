import { OptionsError } from "../errors.js";
import { describeValue } from "../describe-value.js";
import type { StageSettings } from "../nodes/stage-settings.js";
import type { Run } from "./run.js";
import { RESERVED_CONTEXT_KEYS } from "../context.js";
import { StageInfo } from "./stage-info.js";
import { isPromiseLike, whenSettled } from "./thenable.js";

/** The stage side of {@link StageHooks}. */
export interface HookedStage {
  readonly name: string;
  readonly run: Run;
  /** `onStart` succeeded (or there is none): calls may start. */
  hooksReady(): void;
  /** `onStart` failed, or a hook finished running: the stage may be able to finish. */
  checkFinished(): void;
}

/**
 * A stage's `onStart` and `onDone`: `onDone` runs exactly once iff `onStart` succeeded, after
 * the stage's calls have settled, even when `onStart` itself started the teardown
 * (docs/behaviour.md §9.5). While a hook runs, the stage cannot finish.
 */
export class StageHooks {
  /** What `onStart` returned, copied onto every `ctx`; `undefined` when nothing. */
  context: object | undefined = undefined;
  /** Whether the run has started the stage; a teardown before that must wait for it. */
  called = false;
  /** Whether `onStart` is running or its promise is pending. */
  pending = false;
  /** Whether `onStart` succeeded, so `onDone` is owed. */
  started = false;

  readonly #stage: HookedStage;
  readonly #onStart: StageSettings["onStart"];
  readonly #onDone: StageSettings["onDone"];

  constructor(stage: HookedStage, settings: StageSettings) {
    this.#stage = stage;
    this.#onStart = settings.onStart;
    this.#onDone = settings.onDone;
  }

  /** Calls `onStart` (if any); reports to the stage when it succeeded or failed. */
  start(): void {
    this.called = true;
    const onStart = this.#onStart;
    if (onStart === undefined) {
      this.started = true;
      this.#stage.hooksReady();
      return;
    }
    const stage = this.#stage;
    // Pending while it runs: an onStart that aborts the caller's signal tears the run down
    // from inside this call, and that teardown must not finish the stage before onStart returns.
    this.pending = true;
    let result: unknown;
    try {
      result = onStart(new StageInfo(stage.name, stage.run));
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (isPromiseLike(result)) {
      whenSettled(
        result,
        (value) => this.#succeeded(value),
        (error) => this.#failed(error),
      );
    } else {
      this.#succeeded(result);
    }
  }

  /** Runs `onDone` if it is owed, then reports the stage done to the run. */
  finish(): void {
    const run = this.#stage.run;
    const onDone = this.#onDone;
    if (onDone === undefined || !this.started) {
      run.partDone();
      return;
    }
    const info = Object.assign(new StageInfo(this.#stage.name, run), this.context);
    run.awaitCallback(() => onDone(info));
  }

  #succeeded(value: unknown): void {
    this.pending = false;
    const problem = contextProblem(value);
    if (problem !== undefined) {
      const { name } = this.#stage;
      const issue = { path: [], expected: problem.expected, received: value, message: `onStart ${problem.message}` };
      this.#failed(new OptionsError(`${name}: ${issue.message}`, { method: name, issues: [issue] }));
      return;
    }
    this.started = true;
    if (value != null) this.context = value;
    this.#stage.hooksReady();
  }

  #failed(error: unknown): void {
    this.pending = false;
    this.#stage.run.fail(error);
    this.#stage.checkFinished();
  }
}

/** Why an `onStart` result cannot be merged into `ctx` (what it must be, and the sentence), or `undefined` when it can. */
function contextProblem(value: unknown): { expected: string; message: string } | undefined {
  if (value == null) return undefined;
  const prototype: unknown = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    // Only own properties can be copied onto ctx: a class instance would lose its methods.
    const expected = "a plain object, null or undefined";
    return {
      expected,
      message:
        `must return ${expected} (received ${describeValue(value)}); ` +
        `to share an instance, return it under a key: onStart: () => ({ client: new Client() })`,
    };
  }
  for (const key of RESERVED_CONTEXT_KEYS) {
    if (key in (value as object)) {
      return {
        expected: `an object without the reserved keys (${RESERVED_CONTEXT_KEYS.join(", ")})`,
        message: `must not return the reserved key "${key}" (reserved: ${RESERVED_CONTEXT_KEYS.join(", ")})`,
      };
    }
  }
  return undefined;
}
