import { RateLimiter } from "@sluice/core";
import { checkObject, optionsError } from "./options-error.js";
import { DURATION_ALLOWED, parseOptions, rateLimitWindowSchema } from "./options-schema.js";

/**
 * Makes a {@link RateLimiter} to share between stages, pipelines and runs: together they
 * start at most `limit` calls in any rolling window of `interval` ms, served first come,
 * first served. `limiter.pauseFor(ms)` and `limiter.pauseUntil(date)` hold every start for a
 * while (a 429's `Retry-After`, in seconds or as an HTTP date).
 * Throws an `OptionsError` for a bad `limit` or `interval`.
 *
 * @param options - `limit`: starts per window (an integer >= 1); `interval`: the window in ms (> 0)
 * @example
 * ```ts
 * const api = rateLimiter({ limit: 5, interval: 1_000 });
 * await pipe(ids)
 *   .map(async (id) => {
 *     const response = await fetch(`https://api.example.com/items/${id}`);
 *     if (response.status === 429) {
 *       // Retry-After is either a number of seconds or an HTTP date.
 *       const retryAfter = response.headers.get("retry-after") ?? "1";
 *       const seconds = Number(retryAfter);
 *       if (Number.isFinite(seconds)) api.pauseFor(seconds * 1_000);
 *       else api.pauseUntil(new Date(retryAfter));
 *     }
 *     return response.json();
 *   }, { workers: 8, rateLimit: api });
 * ```
 */
export function rateLimiter(options: { readonly limit: number; readonly interval: number }): RateLimiter {
  const parsed = parseOptions(rateLimitWindowSchema, checkObject("rateLimiter", options));
  if (!parsed.success) {
    throw optionsError("rateLimiter", options as unknown as Record<string, unknown>, parsed.issue, ALLOWED);
  }
  return new RateLimiter(parsed.data.limit, parsed.data.interval);
}

const ALLOWED: Readonly<Record<string, string>> = {
  limit: "an integer >= 1",
  interval: DURATION_ALLOWED,
};
