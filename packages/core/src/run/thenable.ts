/**
 * Whether `value` is a promise or any other thenable (checked the way `await` checks it): a
 * promise of another realm (a `vm` context, an iframe) is one too, though not an
 * `instanceof Promise` here.
 *
 * @example
 * ```ts
 * isPromiseLike(Promise.resolve(1)); // true
 * isPromiseLike({ then: (resolve: (x: number) => void) => resolve(1) }); // true
 * isPromiseLike(1); // false
 * ```
 */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** The builtin `then`: a promise that has it settles its callbacks at most once. */
export const nativeThen: unknown = Promise.prototype.then;

/**
 * Subscribes to a thenable the way `await` does: through a native promise, so that only its
 * first settlement counts and a thenable that calls back twice (or throws from `then`) cannot
 * free a slot twice or run a hook's continuation twice (docs/design.md §12). A promise whose
 * `then` is the builtin one is used as it is; anything else (a foreign thenable, a promise
 * subclass or instance with its own `then`) is adopted by `Promise.resolve`, which calls that
 * `then` once with one-shot resolving functions. Hot paths inline the first test, so that
 * this function's call sites stay monomorphic (docs/design.md §14).
 */
export function whenSettled<T>(
  thenable: PromiseLike<T>,
  onFulfilled: (value: T) => void,
  onRejected: (error: unknown) => void,
): void {
  (thenable.then === nativeThen ? thenable : Promise.resolve(thenable)).then(onFulfilled, onRejected);
}
