/**
 * The schemas that options are validated with, in `zod/mini` (zod 4's tree-shakable form:
 * a browser bundle takes only the checks used here). Internal: no public declaration
 * refers to this module, so consumers' type checks never load zod's declarations.
 */
import {
  ConcurrencyLimiter,
  ERROR_POLICIES,
  JITTER_MODES,
  type ElementError,
  RateLimiter,
  TIMEOUT_POLICIES,
  maxRetryFactor,
  maxTimerDelay,
  type ErrorPolicy,
  type JitterMode,
  type RunStats,
  type Telemetry,
} from "@sluice/core";
import * as z from "zod/mini";
import type { HookInfo } from "./context.js";

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === "function";

/** A length of time a timer measures (> 0), and its words in error messages. */
const duration = () => z.number().check(z.positive(), z.maximum(maxTimerDelay));
export const DURATION_ALLOWED = `a number of milliseconds > 0 (at most ${maxTimerDelay})`;
/** A wait that may be zero (>= 0), and its words in error messages. */
const delay = () => z.number().check(z.minimum(0), z.maximum(maxTimerDelay));
export const DELAY_ALLOWED = `a number of milliseconds >= 0 (at most ${maxTimerDelay})`;

/** A `{ limit, interval }` rate limit (a stage's `rateLimit`, and `rateLimiter()`'s options). */
export const rateLimitWindowSchema = z.strictObject({
  limit: z.int().check(z.minimum(1)),
  interval: duration(),
});

/**
 * The object form of a stage's `retry` (the number form is `{ retries }`). Checked on its own
 * after the stage's options, so that a mistake is reported as `options.retry.retries`.
 */
export const retryOptionsSchema = z.strictObject({
  retries: z.int().check(z.minimum(0)),
  minDelay: z.optional(delay()),
  maxDelay: z.optional(delay()),
  factor: z.optional(z.number().check(z.minimum(1), z.maximum(maxRetryFactor))),
  jitter: z.optional(z.custom<JitterMode>((value) => JITTER_MODES.includes(value as never))),
  maxRetryTime: z.optional(duration()),
  shouldRetry: z.optional(z.custom<(error: unknown, attempt: number) => unknown>(isFunction)),
  delay: z.optional(z.custom<(error: unknown, attempt: number) => unknown>(isFunction)),
});

/**
 * The bounds of an adaptive limit (the object form of a stage's `workers`, and
 * `concurrencyLimiter()`'s options); that `min <= initial <= max` is checked after them.
 */
export const concurrencyBoundsSchema = z.strictObject({
  min: z.optional(z.int().check(z.minimum(1))),
  max: z.optional(z.int().check(z.minimum(1))),
  initial: z.optional(z.int().check(z.minimum(1))),
});

/** The options of `batch(size, options)`. */
export const batchOptionsSchema = z.strictObject({
  maxWait: z.optional(duration()),
});

/**
 * Every stage's options (see `StageOptions`); strict, so an unknown key is an issue.
 * `onTimeout`, `name` and `rateLimit` are checked by predicates rather than zod's enum, string
 * and union schemas: each of those pulls its own code into a browser bundle, and the three
 * together cost about 1 KB gzipped against the 20 KiB budget of test/packaging.
 */
export const stageOptionsSchema = z.strictObject({
  // A count, "auto", a shared limiter, or bounds that concurrencyBoundsSchema checks next (for a precise message).
  workers: z.optional(
    z.custom<number | "auto" | ConcurrencyLimiter | z.infer<typeof concurrencyBoundsSchema>>((value) =>
      typeof value === "number"
        ? Number.isInteger(value) && value >= 1
        : value === "auto" || value instanceof ConcurrencyLimiter || (value !== null && typeof value === "object" && !Array.isArray(value)),
    ),
  ),
  maxsize: z.optional(z.int().check(z.minimum(0))),
  timeout: z.optional(duration()),
  onTimeout: z.optional(z.custom<(typeof TIMEOUT_POLICIES)[number]>((value) => TIMEOUT_POLICIES.includes(value as never))),
  name: z.optional(z.custom<string>((value) => typeof value === "string" && value.length > 0)),
  onStart: z.optional(z.custom<(info: HookInfo) => unknown>(isFunction)),
  onDone: z.optional(z.custom<(info: HookInfo) => unknown>(isFunction)),
  // A limiter is kept as it is (the same object, shared); anything else must be a window.
  rateLimit: z.optional(
    z.custom<RateLimiter | z.infer<typeof rateLimitWindowSchema>>(
      (value) => value instanceof RateLimiter || rateLimitWindowSchema.safeParse(value).success,
    ),
  ),
  onError: z.optional(z.custom<ErrorPolicy>((value) => isFunction(value) || ERROR_POLICIES.includes(value as never))),
  isPushback: z.optional(z.custom<(error: unknown) => unknown>(isFunction)),
  cost: z.optional(z.custom<(element: never) => unknown>(isFunction)),
  fallback: z.optional(z.custom<(failure: ElementError) => unknown>(isFunction)),
  // A count, or an object whose fields retryOptionsSchema checks next (for a precise message).
  retry: z.optional(
    z.custom<number | z.infer<typeof retryOptionsSchema>>((value) =>
      typeof value === "number" ? Number.isInteger(value) && value >= 0 : value !== null && typeof value === "object" && !Array.isArray(value),
    ),
  ),
  key: z.optional(z.custom<(element: never) => unknown>(isFunction)),
});

/** A stage's options once validated. */
export type ParsedStageOptions = z.infer<typeof stageOptionsSchema>;

/** The methods a `telemetry` run option must have (its optional ones are checked when present). */
const TELEMETRY_METHODS = ["runStarted", "callStarted", "within", "callEnded", "batchEmitted", "runEnded"] as const;
const TELEMETRY_OPTIONAL_METHODS = ["elementParent", "progress"] as const;
export const TELEMETRY_ALLOWED = `an object with the methods ${TELEMETRY_METHODS.join(", ")} (a Telemetry, as otelTelemetry() gives)`;

function isTelemetry(value: unknown): value is Telemetry {
  if (value === null || typeof value !== "object") return false;
  const methods = value as Record<string, unknown>;
  return (
    TELEMETRY_METHODS.every((name) => isFunction(methods[name])) &&
    TELEMETRY_OPTIONAL_METHODS.every((name) => methods[name] === undefined || isFunction(methods[name]))
  );
}

/** The options of `toArray`, `run` and `iterate`. */
export const runOptionsSchema = z.strictObject({
  signal: z.optional(z.custom<AbortSignal>((value) => value instanceof AbortSignal)),
  maxErrors: z.optional(z.int().check(z.minimum(0))),
  onProgress: z.optional(z.custom<(stats: RunStats) => void>(isFunction)),
  progressInterval: stageOptionsSchema.shape.timeout,
  telemetry: z.optional(z.custom<Telemetry>(isTelemetry)),
  drain: z.optional(z.custom<AbortSignal>((value) => value instanceof AbortSignal)),
  drainTimeout: stageOptionsSchema.shape.timeout,
});

/** The options of `source(items, options)`; `checkpoint`'s fields are checked next, by {@link checkpointOptionsSchema}. */
export const sourceOptionsSchema = z.strictObject({
  settle: z.optional(z.custom<(...args: never[]) => unknown>(isFunction)),
  position: z.optional(z.custom<(element: never) => unknown>(isFunction)),
  checkpoint: z.optional(z.custom<object>((value) => value !== null && typeof value === "object" && !Array.isArray(value))),
});

/** A source's `checkpoint` object. */
export const checkpointOptionsSchema = z.strictObject({
  save: z.custom<(checkpoint: never) => unknown>(isFunction),
  every: z.optional(z.int().check(z.minimum(1))),
  interval: z.optional(duration()),
});

/** One problem found by a schema (the first one is reported). */
export type SchemaIssue = z.core.$ZodIssue;

/** The outcome of {@link parseOptions}: the options as given, or the first problem. */
export type ParsedOptions<T> = { readonly success: true; readonly data: T } | { readonly success: false; readonly issue: SchemaIssue };

/**
 * Checks `options` against a strict object schema one present key at a time, with each
 * field's own schema, reporting what the whole-object parse would report first: the first
 * failing or missing required field in the schema's order, else the first unknown key. The same checks, faster:
 * zod/mini's object parser (without zod classic's compiled fast path) took about twice as
 * long, which made building a pipeline per request (bench E) 15 % slower.
 */
export function parseOptions<S extends z.ZodMiniObject>(schema: S, options: object): ParsedOptions<z.infer<S>> {
  const shape = schema.def.shape as Record<string, z.ZodMiniType>;
  const given = options as Record<string, unknown>;
  for (const key in shape) {
    const field = shape[key]!;
    if (!Object.prototype.hasOwnProperty.call(given, key)) {
      if (field._zod.optin === "optional") continue;
      // A required key that is missing, as the whole-object parse would report it.
      return { success: false, issue: { code: "invalid_type", expected: "nonoptional", path: [key], input: undefined, message: "" } as SchemaIssue };
    }
    const result = z.safeParse(field, given[key]);
    if (!result.success) {
      const first = result.error.issues[0]!;
      return { success: false, issue: { ...first, path: [key, ...first.path] } as SchemaIssue };
    }
  }
  for (const key of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(shape, key)) {
      return { success: false, issue: { code: "unrecognized_keys", keys: [key], path: [], input: options, message: "" } as SchemaIssue };
    }
  }
  return { success: true, data: options as z.infer<S> };
}
