import type { HookInfo } from "../context.js";
import { describeValue } from "../describe-value.js";
import { ElementError, OptionsError, ValidationError } from "../errors.js";
import { maxTimerDelay, type ErrorPolicy, type JitterMode, type RetrySettings } from "../nodes/stage-settings.js";
import type { RateWaiter } from "../rate-limiter.js";
import { pathOf, type Item } from "./item.js";
import type { Run } from "./run.js";
import { settleFailed } from "./settlement.js";
import { StageInfo } from "./stage-info.js";
import { isPromiseLike, whenSettled } from "./thenable.js";

/**
 * The stage side of {@link ElementOutcomes}. Each method takes over the element's slot in the
 * stage: it frees it (or reuses it for the next attempt). `inline` is true while the stage's
 * own call of `f` is still on the stack; the stage then starts no other element from there.
 */
export interface OutcomeStage {
  readonly name: string;
  readonly run: Run;
  /** Drops a failed element (`emitted` children of its expansion so far, -1 without one). */
  dropFailed(item: Item, emitted: number, inline: boolean): void;
  /** Emits `value` in place of `item`, given up on, freeing its slot (the `fallback` option). */
  emitFallback(item: Item, value: unknown, inline: boolean): void;
  /** Fails the run with `error` because of `item`, freeing the element's slot. */
  failRun(item: Item, error: unknown, inline: boolean): void;
  /** Frees the slot of an element whose outcome settled during teardown. */
  abandon(): void;
  /** Teardown reached an element waiting for its next attempt: leave the rate limit's queue. */
  cancelRetry(retry: PendingRetry): void;
  /** Calls `f` again on `retry`'s element, in the slot it kept. */
  restart(retry: PendingRetry): void;
}

/**
 * What a stage with `retry` or a non-default `onError` does when `f` fails on an element
 * (docs/design.md §16): try again after a back-off, keeping the element's slot, and once the
 * retries are used up (or refused) apply `onError`. A stage without either never creates
 * one, so its failures take the old path at the cost of one comparison.
 */
export class ElementOutcomes {
  readonly #stage: OutcomeStage;
  readonly #policy: ErrorPolicy;
  readonly #retry: RetrySettings | undefined;
  /** What replaces an element given up on, or `null`: `onError` then decides. */
  readonly #fallback: ((failure: ElementError) => unknown) | null;
  /** Elements waiting for their next attempt (a back-off or a rate-limit turn), for teardown. */
  #waiting: Set<PendingRetry> | null = null;
  /** Elements waiting for a promise of `shouldRetry`, `delay` or `onError`, for teardown. */
  #answering: Set<PendingAnswer> | null = null;
  /** What the handlers get as their last argument (the stage, the run's signal); made on first use. */
  #info: StageInfo | null = null;

  constructor(stage: OutcomeStage, policy: ErrorPolicy, retry: RetrySettings | undefined, fallback: ((failure: ElementError) => unknown) | undefined) {
    this.#stage = stage;
    this.#policy = policy;
    this.#retry = retry;
    this.#fallback = fallback ?? null;
  }

  /**
   * Attempt `attempt` of `f` on `item` failed with `error`; `firstStart` is when the first
   * attempt started (for `maxRetryTime`), `emitted` the children a flatMap call had emitted
   * (-1 when it had no expansion).
   */
  failed(item: Item, error: unknown, attempt: number, firstStart: number, emitted: number, inline: boolean): void {
    const stage = this.#stage;
    if (stage.run.closing) {
      stage.abandon();
      return;
    }
    const retry = this.#retry;
    if (retry === undefined || emitted > 0 || attempt > retry.retries || !isRetryable(error) || this.#outOfTime(retry, firstStart, 0)) {
      this.#giveUp(item, error, attempt, emitted, inline);
      return;
    }
    const shouldRetry = retry.shouldRetry;
    if (shouldRetry === undefined) {
      this.#wait(item, error, attempt, firstStart, emitted, inline);
      return;
    }
    this.#decide(
      item,
      () => shouldRetry(error, attempt, this.#handlerInfo()),
      inline,
      (verdict, stillInline) => {
        if (verdict) this.#wait(item, error, attempt, firstStart, emitted, stillInline);
        else this.#giveUp(item, error, attempt, emitted, stillInline);
      },
    );
  }

  /**
   * `item` failed before any call of `f` (its `key` threw): no retry can help, so `onError`
   * applies at once; its {@link ElementError} counts 0 attempts.
   */
  refused(item: Item, error: unknown, inline: boolean): void {
    if (this.#stage.run.closing) this.#stage.abandon();
    else this.#giveUp(item, error, 0, -1, inline);
  }

  /**
   * Teardown: cancels every back-off and rate-limit wait at once (no timer is left behind)
   * and stops waiting for the handlers' promises (they have the run's signal, now aborted);
   * returns how many elements were waiting, whose slots the stage frees.
   */
  close(): number {
    let count = 0;
    const waiting = this.#waiting;
    if (waiting !== null) {
      count += waiting.size;
      for (const retry of waiting) {
        clearTimeout(retry.timer);
        retry.cancelled = true;
        this.#stage.cancelRetry(retry);
      }
      waiting.clear();
    }
    const answering = this.#answering;
    if (answering !== null) {
      count += answering.size;
      for (const answer of answering) answer.cancelled = true;
      answering.clear();
    }
    return count;
  }

  /** A back-off ended: the element's next attempt may start (once the rate limit allows). */
  retryDue(retry: PendingRetry): void {
    retry.timer = undefined;
    this.#stage.restart(retry);
  }

  /** The element's next attempt is starting: it no longer waits. */
  retryStarted(retry: PendingRetry): void {
    this.#waiting!.delete(retry);
  }

  /**
   * Runs a user's decision (`shouldRetry`, `delay`) and passes on its answer, at once when it
   * is sync, else once its promise settles (the element keeps its slot meanwhile); a throw
   * or rejection fails the run. A decision that tore the run down (say, by aborting the
   * caller's signal) decides nothing: no back-off is armed after teardown.
   */
  #decide(item: Item, ask: () => unknown, inline: boolean, then: (answer: unknown, stillInline: boolean) => void): void {
    const stage = this.#stage;
    let answer: unknown;
    try {
      answer = ask();
    } catch (error) {
      stage.failRun(item, error, inline);
      return;
    }
    if (!isPromiseLike(answer)) {
      if (stage.run.closing) stage.abandon();
      else then(answer, inline);
      return;
    }
    this.#await(item, answer, then);
  }

  /**
   * Waits for a handler's promise, holding the element's slot, then calls `then` (a rejection
   * fails the run). Teardown stops the wait ({@link close}), so a promise that never settles
   * cannot hold the run; whatever it settles to later is ignored.
   */
  #await(item: Item, answer: PromiseLike<unknown>, then: (answer: unknown, stillInline: boolean) => void): void {
    const stage = this.#stage;
    if (stage.run.closing) {
      // The handler itself tore the run down: free the slot now, and never leave its rejection unhandled.
      whenSettled(answer, noop, noop);
      stage.abandon();
      return;
    }
    const pending = new PendingAnswer();
    (this.#answering ??= new Set()).add(pending);
    whenSettled(
      answer,
      (value) => {
        if (this.#answered(pending)) then(value, false);
      },
      (error) => {
        if (this.#answered(pending)) stage.failRun(item, error, false);
      },
    );
  }

  /** Whether a handler's promise that just settled is still awaited (teardown did not give up on it). */
  #answered(pending: PendingAnswer): boolean {
    if (pending.cancelled) return false;
    this.#answering!.delete(pending);
    return true;
  }

  /** The stage's name and the run's signal, for the handlers. */
  #handlerInfo(): HookInfo {
    return (this.#info ??= new StageInfo(this.#stage.name, this.#stage.run));
  }

  /** Waits out the back-off (or what `delay` names) before the next attempt. */
  #wait(item: Item, error: unknown, attempt: number, firstStart: number, emitted: number, inline: boolean): void {
    const retry = this.#retry!;
    const delay = retry.delay;
    if (delay === undefined) {
      this.#schedule(item, error, attempt, firstStart, emitted, backoff(retry, attempt), inline);
      return;
    }
    this.#decide(
      item,
      () => delay(error, attempt, this.#handlerInfo()),
      inline,
      (wait, nowInline) => {
        if (wait === undefined) {
          this.#schedule(item, error, attempt, firstStart, emitted, backoff(retry, attempt), nowInline);
        } else if (typeof wait === "number" && wait >= 0 && wait <= maxTimerDelay) {
          this.#schedule(item, error, attempt, firstStart, emitted, wait, nowInline);
        } else {
          this.#stage.failRun(
            item,
            new TypeError(
              `${this.#stage.name}: retry.delay must return a number of ms from 0 to ${maxTimerDelay}, or undefined for the back-off (received ${describeValue(wait)})`,
            ),
            nowInline,
          );
        }
      },
    );
  }

  #schedule(item: Item, error: unknown, attempt: number, firstStart: number, emitted: number, wait: number, inline: boolean): void {
    const retry = this.#retry!;
    if (this.#outOfTime(retry, firstStart, wait)) {
      // The next attempt would start after maxRetryTime: this failure is the last.
      this.#giveUp(item, error, attempt, emitted, inline);
      return;
    }
    const pending = new PendingRetry(this, item, attempt + 1, firstStart);
    (this.#waiting ??= new Set()).add(pending);
    pending.timer = setTimeout(pending.due, wait);
  }

  /** Whether an attempt `wait` ms from now would start later than `maxRetryTime` after the first. */
  #outOfTime(retry: RetrySettings, firstStart: number, wait: number): boolean {
    return retry.maxRetryTime !== Infinity && Date.now() + wait - firstStart > retry.maxRetryTime;
  }

  /** The retries are used up or refused: apply the fallback, else `onError`. */
  #giveUp(item: Item, error: unknown, attempts: number, emitted: number, inline: boolean): void {
    const stage = this.#stage;
    if (this.#fallback !== null) {
      this.#replace(item, new ElementError(error, item.value, stage.name, pathOf(item), attempts), inline);
      return;
    }
    const policy = this.#policy;
    if (policy === "fail") {
      stage.failRun(item, error, inline);
      return;
    }
    // The run goes on without it: a settling source learns that its element failed
    // (docs/design.md §17); the item no longer holds a claim when the stage drops it.
    settleFailed(item, error);
    if (policy === "skip") {
      stage.dropFailed(item, emitted, inline);
      return;
    }
    const failure = new ElementError(error, item.value, stage.name, pathOf(item), attempts);
    if (policy === "collect") {
      if (stage.run.collectFailure(failure)) stage.dropFailed(item, emitted, inline);
      else stage.abandon();
      return;
    }
    let result: unknown;
    try {
      result = policy(failure, this.#handlerInfo());
    } catch (handlerError) {
      stage.failRun(item, handlerError, inline);
      return;
    }
    if (!isPromiseLike(result)) {
      stage.dropFailed(item, emitted, inline);
      return;
    }
    // The element keeps its slot until the handler settles, so `workers` bounds handlers too.
    this.#await(item, result, () => stage.dropFailed(item, emitted, false));
  }

  /**
   * Emits the fallback's value for `failure`'s element, which keeps its slot (and its claim:
   * it settles `done` once delivered) until a promised value arrives; a throw or rejection
   * fails the run, as a throwing `onError` handler does.
   */
  #replace(item: Item, failure: ElementError, inline: boolean): void {
    const stage = this.#stage;
    let value: unknown;
    try {
      value = this.#fallback!(failure);
    } catch (fallbackError) {
      stage.failRun(item, fallbackError, inline);
      return;
    }
    if (isPromiseLike(value)) this.#await(item, value, (settled) => stage.emitFallback(item, settled, false));
    else if (stage.run.closing) stage.abandon();
    else stage.emitFallback(item, value, inline);
  }
}

/** A handler's promise that an element waits for; teardown cancels the wait. */
class PendingAnswer {
  cancelled = false;
}

/**
 * An element between two attempts: its back-off timer, then (with a rate limit) its wait for
 * a turn. It keeps the element's slot in the stage all along.
 */
export class PendingRetry implements RateWaiter {
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  cancelled = false;
  /** The timer's callback. */
  readonly due: () => void;
  /** Called by the stage's rate limiter once it counted this attempt's start. */
  granted: () => void = noop;

  constructor(
    outcomes: ElementOutcomes,
    /** The element to call `f` on again. */
    readonly item: Item,
    /** The attempt about to start (2 for the first retry). */
    readonly attempt: number,
    /** When the first attempt started. */
    readonly firstStart: number,
  ) {
    this.due = () => {
      if (!this.cancelled) outcomes.retryDue(this);
    };
  }
}

/** Errors that no retry can fix: bad options, invalid elements. Teardown is checked separately. */
function isRetryable(error: unknown): boolean {
  return !(error instanceof OptionsError || error instanceof ValidationError);
}

/** The back-off after attempt `attempt` failed: exponential from `minDelay`, capped, optionally jittered. */
export function backoff(retry: RetrySettings, attempt: number): number {
  const ceiling = Math.min(retry.maxDelay, retry.minDelay * retry.factor ** (attempt - 1));
  return JITTER[retry.jitter](ceiling);
}

/** Each jitter mode, applied to a computed back-off. */
const JITTER: { readonly [M in JitterMode]: (ceiling: number) => number } = {
  full: (ceiling) => Math.random() * ceiling,
  none: (ceiling) => ceiling,
};

function noop(): void {}
