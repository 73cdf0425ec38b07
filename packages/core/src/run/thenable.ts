/** Whether `value` is a promise or any other thenable (checked the way `await` checks it). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

const promiseThen = Promise.prototype.then as (
  this: Promise<unknown>,
  onFulfilled: (value: never) => void,
  onRejected: (error: unknown) => void,
) => Promise<unknown>;

/**
 * Subscribes to a thenable the way `await` does: through a native promise, so that only its
 * first settlement counts and a thenable that calls back twice (or throws from `then`) cannot
 * free a slot twice or run a hook's continuation twice (docs/design.md §12). A native promise
 * (or subclass) is used as it is, with the builtin `then`, which settles once whatever `then`
 * the instance or subclass may define; anything else is adopted by `Promise.resolve`.
 */
export function whenSettled<T>(
  thenable: PromiseLike<T>,
  onFulfilled: (value: T) => void,
  onRejected: (error: unknown) => void,
): void {
  promiseThen.call(
    thenable instanceof Promise ? thenable : Promise.resolve(thenable),
    onFulfilled as (value: never) => void,
    onRejected,
  );
}
