import { OptionsError } from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { DURATION_ALLOWED, batchOptionsSchema, parseOptions } from "./options-schema.js";

/**
 * Options of `batch(size, options)`.
 *
 * @example
 * ```ts
 * const options: BatchOptions = { maxWait: 50 }; // emit a partial batch 50 ms after its first element
 * await pipe(rows).batch(100, options).each(insertMany).run();
 * ```
 */
export interface BatchOptions {
  /**
   * Milliseconds a batch may wait for more elements after its first arrived (> 0, at most `maxTimerDelay`).
   * @default undefined: no limit
   */
  readonly maxWait?: number;
}

const ALLOWED: Readonly<Record<keyof BatchOptions, string>> = {
  maxWait: DURATION_ALLOWED,
};

/** The validated `size` and `maxWait` of a `batch()` call; throws an `OptionsError` otherwise. */
export function resolveBatch(size: unknown, options: unknown): { size: number; maxWait: number | undefined } {
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw OptionsError.invalid("batch", ["size"], "an integer >= 1", size);
  }
  if (options === undefined) return { size, maxWait: undefined };
  const parsed = parseOptions(batchOptionsSchema, checkObject("batch", options));
  if (!parsed.success) throw optionsError("batch", options as Record<string, unknown>, parsed.issue, ALLOWED);
  return { size, maxWait: parsed.data.maxWait };
}
