import { OptionsError } from "@sluice/core";

// The arguments of take, drop, takeWhile and the terminal methods: checked when the pipeline
// is built (or the terminal is called), with errors in the form of the options' errors.

/** Throws an {@link OptionsError} naming `method` unless `n` is an integer >= 0. */
export function checkCount(method: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) throw OptionsError.invalid(method, ["n"], "an integer >= 0", n);
  return n;
}

/** Throws an {@link OptionsError} naming `method` and the parameter `name` unless `f` is a function. */
export function checkFunction<F>(method: string, name: string, f: F): F {
  if (typeof f !== "function") throw OptionsError.invalid(method, [name], "a function", f);
  return f;
}
