import { OptionsError } from "@sluice/core";
import type { SchemaIssue } from "./options-schema.js";

/** Throws unless `options` is a plain options object (not null, an array, or an `AbortSignal`). */
export function checkObject(method: string, options: unknown): object {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw OptionsError.invalid(method, ["options"], "an object", options);
  }
  if (typeof AbortSignal === "function" && options instanceof AbortSignal) {
    const expected = "an object such as { signal }";
    const message = `options must be ${expected} (received an AbortSignal itself)`;
    throw new OptionsError(`${method}(): ${message}`, { method, issues: [{ path: ["options"], expected, received: options, message }] });
  }
  return options;
}

/**
 * The {@link OptionsError} for the first schema issue of an options object, in the form
 * `map(): options.workers must be an integer >= 1 (received 0)`. `allowed` says, per
 * option, what it may be; `where` is the path to the object (`["options", "retry"]` for a
 * nested one).
 */
export function optionsError(
  method: string,
  options: Record<string, unknown>,
  issue: SchemaIssue,
  allowed: Readonly<Record<string, string>>,
  where: readonly string[] = ["options"],
): OptionsError {
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    return OptionsError.notAnOption(method, [...where, key], Object.keys(allowed), options[key]);
  }
  const key = String(issue.path[0]);
  return OptionsError.invalid(method, [...where, key], allowed[key] ?? "valid", options[key]);
}
