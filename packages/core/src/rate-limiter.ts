import { BoundedQueue } from "./bounded-queue.js";
import { describeValue } from "./describe-value.js";
import { maxTimerDelay } from "./nodes/stage-settings.js";

/**
 * Something waiting for a turn from a {@link RateLimiter}: a stage with elements queued.
 * `granted()` is called with a start already counted; a waiter that can no longer use it
 * gives it back with {@link RateLimiter.refund}.
 */
export interface RateWaiter {
  /** The limiter counted a start for this waiter. */
  granted(): void;
}

const clock: { now(): number } = typeof globalThis.performance?.now === "function" ? globalThis.performance : Date;

/**
 * A sliding-window rate limit: at most `limit` units in any rolling window of `interval` ms
 * (not fixed windows, which let twice the limit through around a window's edge). A call
 * start takes one unit, or what the stage's `cost` says; `charge(units)` adds units once a
 * call's real cost is known. A start costing more than the whole limit waits for an empty
 * window and then runs alone in it, so it never waits forever. One limiter can be shared by several stages, pipelines and runs; its waiters are
 * served in FIFO order; `pauseFor(ms)` and `pauseUntil(date)` hold every start for a while
 * (a 429's `Retry-After`).
 * It keeps a timer only while someone waits.
 *
 * @example
 * ```ts
 * const github = rateLimiter({ limit: 10, interval: 1_000 }); // shared by both stages
 * await pipe(repos)
 *   .map(fetchRepo, { workers: 8, rateLimit: github })
 *   .map(fetchIssues, { workers: 8, rateLimit: github });
 * ```
 */
export class RateLimiter {
  /** Units allowed per window (one per call start unless a stage says otherwise). */
  readonly limit: number;
  /** The window's length in ms. */
  readonly interval: number;
  /** Times of the starts and charges inside the window, oldest first. */
  readonly #starts = new BoundedQueue<number>();
  /** The units each entry of `#starts` took, in the same order. */
  readonly #units = new BoundedQueue<number>();
  /** The sum of `#units`: what the window holds now. */
  #taken = 0;
  /** Waiting stages and the units each asks for, in arrival order (a Map keeps insertion order; a stage waits once). */
  readonly #waiters = new Map<RateWaiter, number>();
  #pausedUntil = 0;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #timerAt = 0;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#serve();
  };

  /** Trusts its arguments; the DSL's `rateLimiter()` validates them. */
  constructor(limit: number, interval: number) {
    this.limit = limit;
    this.interval = interval;
  }

  /**
   * Counts a start of `units` and returns true if it is allowed now and nobody waits before
   * `waiter`; else queues `waiter` (keeping the units it first asked for, if it already waits).
   */
  acquire(waiter: RateWaiter, units = 1): boolean {
    const now = clock.now();
    if (this.#waiters.size === 0 && this.#wait(now, units) === 0) {
      this.#take(now, units);
      return true;
    }
    if (!this.#waiters.has(waiter)) this.#waiters.set(waiter, units);
    this.#arm();
    return false;
  }

  /**
   * Adds `units` taken now by a call already running (its real cost, known after the fact).
   * The window may go over the limit by them; later starts wait until it is back within.
   */
  charge(units: number): void {
    if (units <= 0) return;
    this.#take(clock.now(), units);
    if (this.#waiters.size > 0) {
      this.#disarm();
      this.#arm();
    }
  }

  /** Gives back the start counted for a waiter that could not use it (the most recent one). */
  refund(): void {
    this.#starts.pop();
    this.#taken -= this.#units.pop() ?? 0;
    this.#serve();
  }

  /** Removes `waiter` from the queue (its stage was torn down); clears the timer when nobody waits. */
  cancel(waiter: RateWaiter): void {
    this.#waiters.delete(waiter);
    if (this.#waiters.size === 0) this.#disarm();
  }

  /**
   * Holds every start for `ms` milliseconds from now (or longer, if already paused longer):
   * for a server's `Retry-After` in seconds. Throws a `TypeError` when `ms` is not a number
   * and a `RangeError` when it is NaN, negative or infinite (a pause it cannot end, or none
   * at all, would be a silent mistake); see {@link pauseUntil} for the date form.
   *
   * @param ms - how long to hold every start: a finite number of milliseconds >= 0
   * @example
   * ```ts
   * const response = await fetch(url);
   * if (response.status === 429) {
   *   // Retry-After is either a number of seconds or an HTTP date.
   *   const retryAfter = response.headers.get("retry-after") ?? "1";
   *   const seconds = Number(retryAfter);
   *   if (Number.isFinite(seconds)) limiter.pauseFor(seconds * 1_000);
   *   else limiter.pauseUntil(new Date(retryAfter));
   * }
   * ```
   */
  pauseFor(ms: number): void {
    if (typeof ms !== "number" || !(ms >= 0 && ms !== Infinity)) {
      const message = `pauseFor(): ms must be a finite number of milliseconds >= 0 (received ${describeValue(ms)})`;
      throw typeof ms === "number" ? new RangeError(message) : new TypeError(message);
    }
    this.#pause(ms);
  }

  /**
   * Holds every start until `until` (or longer, if already paused longer): for a server's
   * `Retry-After` given as an HTTP date. A time in the past does not pause. Throws a
   * `TypeError` when `until` is neither a `Date` nor a number and a `RangeError` for an
   * invalid `Date` or a number that is not finite.
   *
   * @param until - a `Date`, or a number of ms since the epoch (as `Date.now()`)
   * @example
   * ```ts
   * // Retry-After: Wed, 21 Oct 2015 07:28:00 GMT
   * limiter.pauseUntil(new Date(response.headers.get("retry-after") ?? Date.now()));
   * ```
   */
  pauseUntil(until: Date | number): void {
    const time = until instanceof Date ? until.getTime() : until;
    if (typeof time !== "number" || !Number.isFinite(time)) {
      const received = until instanceof Date ? String(until) : describeValue(until);
      const message = `pauseUntil(): until must be a valid Date or a number of ms since the epoch (received ${received})`;
      throw typeof time === "number" ? new RangeError(message) : new TypeError(message);
    }
    // A wall-clock time; the limiter's clock may be another (performance.now()): pause for the difference.
    this.#pause(Math.max(0, time - Date.now()));
  }

  #pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, clock.now() + ms);
    if (this.#waiters.size > 0) {
      this.#disarm();
      this.#arm();
    }
  }

  #take(now: number, units: number): void {
    this.#starts.push(now);
    this.#units.push(units);
    this.#taken += units;
  }

  /**
   * How long until a start of `units` is allowed at `now` (0 when it is allowed): when the
   * window can hold them, or, for more than the whole limit, when the window is empty.
   * Forgets starts that left the window.
   */
  #wait(now: number, units: number): number {
    const starts = this.#starts;
    while (starts.length > 0 && starts.peek()! <= now - this.interval) {
      starts.shift();
      this.#taken -= this.#units.shift()!;
    }
    // Fractional costs leave rounding dust in the sum: an empty window holds nothing.
    if (starts.length === 0) this.#taken = 0;
    let wait = this.#pausedUntil - now;
    // The units that must leave the window first; all of them for an oversize start.
    const excess = units > this.limit ? this.#taken : this.#taken + units - this.limit;
    if (excess > 0) {
      let left = 0;
      let i = 0;
      while (left < excess && i < starts.length) left += this.#units.at(i++)!;
      wait = Math.max(wait, starts.at(i - 1)! + this.interval - now);
    }
    return Math.max(0, wait);
  }

  /** Grants starts to waiters, first come first served, while the window allows. */
  #serve(): void {
    const waiters = this.#waiters;
    for (const [waiter, units] of waiters) {
      const now = clock.now();
      if (this.#wait(now, units) > 0) break;
      this.#take(now, units);
      waiters.delete(waiter);
      waiter.granted();
    }
    this.#disarm();
    if (waiters.size > 0) this.#arm();
  }

  #arm(): void {
    const now = clock.now();
    const first = this.#waiters.values().next();
    const at = now + this.#wait(now, first.done === true ? 1 : first.value);
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#disarm();
    // A longer timer would fire after 1 ms, over and over: wait out a long pause in capped steps (#serve re-arms).
    this.#timerAt = Math.min(at, now + maxTimerDelay);
    // +1: timers may fire a little early; a start exactly at the window's edge waits one more ms.
    this.#timer = setTimeout(this.#onTimer, Math.min(at - now + 1, maxTimerDelay));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
