import { anchorShape } from "./shape-anchors.js";

/**
 * Something waiting for room under a {@link ConcurrencyLimiter}: a stage with elements
 * queued. `concurrencyFreed()` says that a call may fit now; the waiter asks again, and
 * waits again if someone else took the room first.
 */
export interface ConcurrencyWaiter {
  /** Room for a call may have opened under the limit. */
  concurrencyFreed(): void;
}

/** The current time in ms, read through the global each time so that a test's fake clock applies. */
export const now = (): number => performance.now();

// The controller's constants (docs/design.md §24 says why each has its value).
/** What a decrease multiplies the limit by. */
const DECREASE = 0.9;
/** The weight of the newest window in the moving averages of latency and of its deviation. */
const ALPHA = 0.5;
/** A window's mean latency this many average deviations past the moving average is a sign of overload... */
const DEVIATIONS = 1.5;
/** ...and so is one past it by this fraction of it, however steady the latency was. */
const MARGIN = 0.05;

/**
 * An adaptive concurrency limit (AIMD: additive increase, multiplicative decrease, after the design of Vector's adaptive
 * request concurrency): calls of `f` in flight stay under `limit`, which starts at `initial`
 * and moves within `min` to `max`. Time is cut into windows about as long as a call takes;
 * after a window in which the limit was reached, nothing pushed back and the calls' mean
 * latency stayed within its moving average, the limit goes up by 1; a push-back (a failed
 * attempt that the stage's `isPushback` accepts, or a call that ran `ctx.pushback()`) or a
 * mean latency past the average by a margin (1.5 times its usual deviation, and at least 5%)
 * multiplies it by 0.9, at most once per window.
 * Only a call's own duration is measured: never a rate-limit wait nor a retry's back-off.
 *
 * Passed as a stage's `workers`, one limiter is shared by every stage, pipeline and run
 * that uses it (their calls together stay under one limit), and a later run starts from the
 * limit an earlier one left. `workers: "auto"` gives a stage a limit of its own per run.
 *
 * @example
 * ```ts
 * const api = concurrencyLimiter({ max: 32 }); // shared by both stages, and by later runs
 * await pipe(ids)
 *   .map(fetchUser, { workers: api })
 *   .map(fetchOrders, { workers: api });
 * console.log(api.limit); // where it settled
 * ```
 */
export class ConcurrencyLimiter {
  /** The lowest the limit goes. */
  readonly min: number;
  /** The highest the limit goes. */
  readonly max: number;
  #limit: number;
  #inFlight = 0;
  /** Waiting stages, in arrival order (a Set keeps insertion order; a stage waits once). */
  readonly #waiters = new Set<ConcurrencyWaiter>();
  #serving = false;
  /** When the current window began; NaN before the first call settles. */
  #windowStart = Number.NaN;
  /** The sum and count of the latencies (of calls not pushed back) in the current window. */
  #sum = 0;
  #count = 0;
  /** Whether calls in flight reached the limit during the current window. */
  #reached = false;
  /** Whether a call pushed back during the current window. */
  #pushedBack = false;
  /** Whether the limit went down during the current window (it does at most once). */
  #decreased = false;
  /** The moving average of the windows' mean latency in ms; NaN until the first window ends. */
  #average = Number.NaN;
  /** The moving average of how far a window's mean latency strays from `#average`. */
  #deviation = 0;

  /** Trusts its arguments (integers, `1 <= min <= initial <= max`); the DSL's `concurrencyLimiter()` validates them. */
  constructor(min: number, max: number, initial: number) {
    this.min = min;
    this.max = max;
    this.#limit = initial;
  }

  /** The current limit: calls allowed in flight at once. */
  get limit(): number {
    return this.#limit;
  }

  /** Calls in flight now, under this limit. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The moving average of the calls' latency in ms, or `NaN` before any call has settled. */
  get latency(): number {
    return this.#average;
  }

  /** @internal Counts a call and returns true if one fits under the limit now; else queues `waiter`. */
  take(waiter: ConcurrencyWaiter): boolean {
    if (this.#inFlight < this.#limit) {
      if (++this.#inFlight >= this.#limit) this.#reached = true;
      return true;
    }
    this.#reached = true;
    this.#waiters.add(waiter);
    return false;
  }

  /** @internal Counts a call that may not wait (a retry in the slot its element kept). */
  add(): void {
    if (++this.#inFlight >= this.#limit) this.#reached = true;
  }

  /** @internal A counted call ended without a measurement (torn down, or never started): frees its room. */
  release(): void {
    this.#inFlight--;
    this.#serve();
  }

  /** @internal Removes `waiter` from the queue (its stage was torn down). */
  cancel(waiter: ConcurrencyWaiter): void {
    this.#waiters.delete(waiter);
  }

  /**
   * @internal A counted call settled at `at` after `ms` ms of its own; `pushback` when it
   * said "slow down". Frees its room and moves the limit as the window's figures say.
   */
  settled(at: number, ms: number, pushback: boolean): void {
    this.#inFlight--;
    if (Number.isNaN(this.#windowStart)) this.#windowStart = at - ms;
    if (pushback) {
      this.#pushedBack = true;
      // React at once, not at the window's end: the rest of the window's calls were started
      // under the old limit, and may push back too without meaning more.
      if (!this.#decreased) this.#decrease();
    } else {
      this.#sum += ms;
      this.#count++;
    }
    // A window lasts about one call; the first one ends with the first call.
    if (!(at - this.#windowStart < this.#average)) this.#endWindow(at);
    this.#serve();
  }

  #endWindow(at: number): void {
    const average = this.#average;
    if (this.#count > 0) {
      const mean = this.#sum / this.#count;
      if (!this.#decreased) {
        if (mean > average + Math.max(DEVIATIONS * this.#deviation, MARGIN * average)) this.#decrease();
        else if (this.#reached && !this.#pushedBack && !(mean > average) && this.#limit < this.max) this.#limit++;
      }
      if (Number.isNaN(average)) this.#average = mean;
      else {
        this.#deviation += ALPHA * (Math.abs(mean - average) - this.#deviation);
        this.#average = average + ALPHA * (mean - average);
      }
    }
    this.#windowStart = at;
    this.#sum = 0;
    this.#count = 0;
    this.#reached = this.#inFlight >= this.#limit;
    this.#pushedBack = false;
    this.#decreased = false;
  }

  #decrease(): void {
    this.#limit = Math.max(this.min, Math.floor(this.#limit * DECREASE));
    this.#decreased = true;
  }

  /** Wakes waiting stages, first come first served, while there is room. */
  #serve(): void {
    if (this.#serving) return;
    this.#serving = true;
    const waiters = this.#waiters;
    while (waiters.size > 0 && this.#inFlight < this.#limit) {
      const waiter = waiters.values().next().value!;
      waiters.delete(waiter);
      waiter.concurrencyFreed();
    }
    this.#serving = false;
  }
}

// Keep the hidden class of this per-run object alive (see shape-anchors.ts).
anchorShape(new ConcurrencyLimiter(1, 1, 1));
