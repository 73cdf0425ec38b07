/** Whether `value` is a promise or any other thenable (checked the way `await` checks it). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Subscribes to a thenable the way `await` does: through a native promise, so that only its
 * first settlement counts and a thenable that calls back twice (or throws from `then`) cannot
 * free a slot twice or run a hook's continuation twice (docs/design.md §12). A plain native
 * promise is used as it is (its builtin `then` settles once); anything else, promise
 * subclasses with their own `then` included, is adopted by `Promise.resolve`, which calls
 * that `then` once with one-shot resolving functions.
 */
export function whenSettled<T>(
  thenable: PromiseLike<T>,
  onFulfilled: (value: T) => void,
  onRejected: (error: unknown) => void,
): void {
  // A prototype check rather than instanceof: a subclass may override then.
  (Object.getPrototypeOf(thenable) === Promise.prototype ? (thenable as Promise<T>) : Promise.resolve(thenable)).then(
    onFulfilled,
    onRejected,
  );
}
