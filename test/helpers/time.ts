/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The integers `0 .. n-1`. */
export function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

/** Resolves after the current macrotask, so pending promise chains and immediates have run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A promise with its resolve and reject functions exposed, to hold a call open until a test says so. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Waits until `condition()` holds, checking after every macrotask; fails with `what` after
 * `limitMs`. Lets tests wait for a state instead of guessing a delay.
 */
export async function until(condition: () => boolean, what = "condition", limitMs = 2_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/**
 * Runs `body` with `performance.now` recording its last reading in `clock.last`, then puts it
 * back. A rate limiter reads the clock when it counts a start and the stage calls `f` at once
 * (docs/design.md §6), so the last reading before `f`'s first line is the time the limiter
 * counted for that call. `f`'s own reading can be later by a pause of the process (a GC, a
 * descheduled thread: up to 5 ms seen, on Node and Bun alike), so rolling-window properties
 * check the counted times, with no tolerance.
 */
export async function onLimiterClock<T>(body: (clock: { readonly last: number }) => Promise<T>): Promise<T> {
  const performanceClock = performance;
  const own = Object.getOwnPropertyDescriptor(performanceClock, "now");
  const read = performanceClock.now.bind(performanceClock);
  const clock = { last: 0 };
  performanceClock.now = () => (clock.last = read());
  try {
    return await body(clock);
  } finally {
    if (own === undefined) delete (performanceClock as { now?: unknown }).now;
    else Object.defineProperty(performanceClock, "now", own);
  }
}
