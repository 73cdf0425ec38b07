import { OptionsError, describeValue } from "@sluice/core";
import type { OptionsIssue } from "./options-schema.js";

/** Throws unless `options` is a plain options object (not null, an array, or an `AbortSignal`). */
export function checkObject(method: string, options: unknown): object {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new OptionsError(`${method}(): options must be an object (received ${describeValue(options)})`);
  }
  if (typeof AbortSignal === "function" && options instanceof AbortSignal) {
    throw new OptionsError(`${method}(): options must be an object such as { signal } (received an AbortSignal itself)`);
  }
  return options;
}

/**
 * The {@link OptionsError} for the first schema issue of an options object, in the form
 * `map(): options.workers must be an integer >= 1 (received 0)`. `allowed` says, per
 * option, what it may be; `where` names the object (`options.retry` for a nested one).
 */
export function optionsError(
  method: string,
  options: Record<string, unknown>,
  issue: OptionsIssue,
  allowed: Readonly<Record<string, string>>,
  where = "options",
): OptionsError {
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    return new OptionsError(
      `${method}(): ${where}.${key} is not an option (options are: ${Object.keys(allowed).join(", ")})`,
    );
  }
  const key = String(issue.path[0]);
  return new OptionsError(
    `${method}(): ${where}.${key} must be ${allowed[key] ?? "valid"} (received ${describeValue(options[key])})`,
  );
}
