import { ConcurrencyLimiter } from "@sluice/core";
import { checkObject } from "./options-error.js";
import { resolveBounds, type AdaptiveWorkers } from "./stage-options.js";

/**
 * Makes a {@link ConcurrencyLimiter} to share between stages, pipelines and runs, passed as
 * their `workers`: together their calls stay under one adaptive limit, which starts at
 * `initial` and moves within `min` to `max` as the service answers (docs/behaviour.md §16).
 * A later run starts from the limit an earlier one left. Throws an `OptionsError` for a
 * field that is not an integer >= 1, `min > max`, or an `initial` outside them.
 *
 * @param options - `min` (default 1), `max` (default 64), `initial` (default 4, kept within `min` and `max`)
 * @example
 * ```ts
 * const api = concurrencyLimiter({ max: 32 });
 * await pipe(ids).map(fetchUser, { workers: api });
 * await pipe(moreIds).map(fetchUser, { workers: api }); // starts where the first run left
 * console.log(api.limit);
 * ```
 */
export function concurrencyLimiter(options: AdaptiveWorkers = {}): ConcurrencyLimiter {
  const bounds = resolveBounds("concurrencyLimiter", checkObject("concurrencyLimiter", options), ["options"]);
  return new ConcurrencyLimiter(bounds.min, bounds.max, bounds.initial);
}
