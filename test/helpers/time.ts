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
