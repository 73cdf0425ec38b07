import type { RunOptions } from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { DURATION_ALLOWED, TELEMETRY_ALLOWED, parseOptions, runOptionsSchema } from "./options-schema.js";

const ALLOWED: Readonly<Record<keyof RunOptions, string>> = {
  signal: "an AbortSignal",
  maxErrors: "an integer >= 0",
  onProgress: "a function",
  progressInterval: DURATION_ALLOWED,
  telemetry: TELEMETRY_ALLOWED,
  drain: "an AbortSignal",
  drainTimeout: DURATION_ALLOWED,
};

/** The options every consumption gets when it is given none. */
export const NO_RUN_OPTIONS: RunOptions = Object.freeze({});

/**
 * Validates the options of a consumption method (callers from untyped JavaScript may pass
 * anything); throws an `OptionsError` such as `toArray(): options.signal must be an
 * AbortSignal (received "nope")`.
 */
export function checkRunOptions(method: "toArray" | "toResult" | "run" | "iterate" | "toReadableStream", options: unknown): RunOptions {
  if (options === NO_RUN_OPTIONS) return NO_RUN_OPTIONS;
  const parsed = parseOptions(runOptionsSchema, checkObject(method, options));
  if (!parsed.success) throw optionsError(method, options as Record<string, unknown>, parsed.issue, ALLOWED);
  return options as RunOptions;
}
