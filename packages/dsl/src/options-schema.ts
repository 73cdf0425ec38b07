/**
 * The schemas that options are validated with, in `zod/mini` (zod 4's tree-shakable form:
 * a browser bundle takes only the checks used here). Internal: no public declaration
 * refers to this module, so consumers' type checks never load zod's declarations.
 */
import { RateLimiter, TIMEOUT_POLICIES } from "@sluice/core";
import * as z from "zod/mini";
import type { HookInfo } from "./context.js";

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === "function";

/** A `{ limit, interval }` rate limit (a stage's `rateLimit`, and `rateLimiter()`'s options). */
export const rateLimitWindowSchema = z.strictObject({
  limit: z.int().check(z.minimum(1)),
  interval: z.number().check(z.positive(), z.maximum(2_147_483_647)),
});

/** The options of `batch(size, options)`. */
export const batchOptionsSchema = z.strictObject({
  maxWait: z.optional(z.number().check(z.positive(), z.maximum(2_147_483_647))),
});

/**
 * Every stage's options (see `StageOptions`); strict, so an unknown key is an issue.
 * `onTimeout`, `name` and `rateLimit` are checked by predicates rather than zod's enum, string
 * and union schemas: each of those pulls its own code into a browser bundle, and the three
 * together cost about 1 KB gzipped against the 15 KiB budget of test/packaging.
 */
export const stageOptionsSchema = z.strictObject({
  workers: z.optional(z.int().check(z.minimum(1))),
  maxsize: z.optional(z.int().check(z.minimum(0))),
  timeout: z.optional(z.number().check(z.positive(), z.maximum(2_147_483_647))),
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
});

/** A stage's options once validated. */
export type ParsedStageOptions = z.infer<typeof stageOptionsSchema>;

/** The options of `toArray`, `run` and `iterate`. */
export const runOptionsSchema = z.strictObject({
  signal: z.optional(z.custom<AbortSignal>((value) => value instanceof AbortSignal)),
});

/** One problem found by a schema (the first one is reported). */
export type OptionsIssue = z.core.$ZodIssue;
