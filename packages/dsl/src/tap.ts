import { isPromiseLike } from "@sluice/core";

/**
 * The stage function of `tap(f)`: calls `f` and emits the element itself once `f` (and its
 * promise) has finished. Made once per stage, not per element; only a promised result costs
 * a closure, to hand the element on after it.
 */
export function passThrough(f: (value: unknown, ctx: unknown) => unknown): (value: unknown, ctx: unknown) => unknown {
  return (value, ctx) => {
    const result = f(value, ctx);
    return isPromiseLike(result) ? Promise.resolve(result).then(() => value) : value;
  };
}
