/**
 * The schemas that options are validated with, in `zod/mini` (zod 4's tree-shakable form:
 * a browser bundle takes only the checks used here). Internal: no public declaration
 * refers to this module, so consumers' type checks never load zod's declarations.
 */
import { TIMEOUT_POLICIES } from "@sluice/core";
import * as z from "zod/mini";
import type { HookInfo } from "./context.js";

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === "function";

/** Every stage's options (see `StageOptions`); strict, so an unknown key is an issue. */
export const stageOptionsSchema = z.strictObject({
  workers: z.optional(z.int().check(z.minimum(1))),
  maxsize: z.optional(z.int().check(z.minimum(0))),
  timeout: z.optional(z.number().check(z.positive(), z.maximum(2_147_483_647))),
  onTimeout: z.optional(z.enum(TIMEOUT_POLICIES)),
  name: z.optional(z.string().check(z.minLength(1))),
  onStart: z.optional(z.custom<(info: HookInfo) => unknown>(isFunction)),
  onDone: z.optional(z.custom<(info: HookInfo) => unknown>(isFunction)),
});

/** A stage's options once validated. */
export type ParsedStageOptions = z.infer<typeof stageOptionsSchema>;

/** The options of `toArray`, `run` and `iterate`. */
export const runOptionsSchema = z.strictObject({
  signal: z.optional(z.custom<AbortSignal>((value) => value instanceof AbortSignal)),
});

/** One problem found by a schema (the first one is reported). */
export type OptionsIssue = z.core.$ZodIssue;
