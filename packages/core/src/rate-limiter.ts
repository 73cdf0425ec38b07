import { BoundedQueue } from "./bounded-queue.js";

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
 * A sliding-window rate limit: at most `limit` call starts in any rolling window of
 * `interval` ms (not fixed windows, which let twice the limit through around a window's
 * edge). One limiter can be shared by several stages, pipelines and runs; its waiters are
 * served in FIFO order; `pauseFor(ms)` holds every start for a while (a 429's `Retry-After`).
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
  /** Starts allowed per window. */
  readonly limit: number;
  /** The window's length in ms. */
  readonly interval: number;
  /** Times of the starts inside the window, oldest first (at most `limit` of them). */
  readonly #starts = new BoundedQueue<number>();
  /** Waiting stages, in arrival order (a Set keeps insertion order; a stage waits once). */
  readonly #waiters = new Set<RateWaiter>();
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

  /** Counts a start and returns true if one is allowed now and nobody waits before `waiter`; else queues `waiter`. */
  acquire(waiter: RateWaiter): boolean {
    const now = clock.now();
    if (this.#waiters.size === 0 && this.#wait(now) === 0) {
      this.#starts.push(now);
      return true;
    }
    this.#waiters.add(waiter);
    this.#arm();
    return false;
  }

  /** Gives back the start counted for a waiter that could not use it (the most recent one). */
  refund(): void {
    this.#starts.pop();
    this.#serve();
  }

  /** Removes `waiter` from the queue (its stage was torn down); clears the timer when nobody waits. */
  cancel(waiter: RateWaiter): void {
    this.#waiters.delete(waiter);
    if (this.#waiters.size === 0) this.#disarm();
  }

  /**
   * Holds every start for `ms` milliseconds from now (or longer, if already paused longer):
   * for a server's `Retry-After`.
   *
   * @example
   * ```ts
   * if (response.status === 429) limiter.pauseFor(Number(response.headers.get("retry-after")) * 1_000);
   * ```
   */
  pauseFor(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, clock.now() + ms);
    if (this.#waiters.size > 0) {
      this.#disarm();
      this.#arm();
    }
  }

  /** How long until a start is allowed at `now` (0 when it is allowed); forgets starts that left the window. */
  #wait(now: number): number {
    const starts = this.#starts;
    while (starts.length > 0 && starts.peek()! <= now - this.interval) starts.shift();
    let wait = this.#pausedUntil - now;
    if (starts.length >= this.limit) wait = Math.max(wait, starts.peek()! + this.interval - now);
    return Math.max(0, wait);
  }

  /** Grants starts to waiters, first come first served, while the window allows. */
  #serve(): void {
    const waiters = this.#waiters;
    for (const waiter of waiters) {
      const now = clock.now();
      if (this.#wait(now) > 0) break;
      this.#starts.push(now);
      waiters.delete(waiter);
      waiter.granted();
    }
    this.#disarm();
    if (waiters.size > 0) this.#arm();
  }

  #arm(): void {
    const now = clock.now();
    const at = now + this.#wait(now);
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#disarm();
    this.#timerAt = at;
    // +1: timers may fire a little early; a start exactly at the window's edge waits one more ms.
    this.#timer = setTimeout(this.#onTimer, at - now + 1);
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
