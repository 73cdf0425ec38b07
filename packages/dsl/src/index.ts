/**
 * `@sluice/dsl`: typed, fluent, concurrent async pipelines with bounded memory and a clean
 * shutdown. The only import most users need.
 *
 * @example
 * ```ts
 * import { pipe } from "@sluice/dsl";
 *
 * const users = await pipe(ids)
 *   .map(fetchUser, { workers: 16, maxsize: 64 })
 *   .filter((u) => u.active)
 *   .ordered();
 * ```
 *
 * @packageDocumentation
 * @module @sluice/dsl
 */
export {
  DrainTimeoutError,
  ConcurrencyLimiter,
  ElementError,
  ElementErrors,
  OptionsError,
  RateLimiter,
  TimeoutError,
  ValidationError,
  checkpointDefaults,
  adaptiveDefaults,
  defaultMaxsize,
  isPushbackError,
  maxTimerDelay,
  type Checkpoint,
  maxWorkers,
  type ConcurrencyBounds,
  type ConcurrencyWaiter,
  type ErrorPolicy,
  type JitterMode,
  type RateLimitWindow,
  type RateWaiter,
  type RunOptions,
  type RunResult,
  type RunState,
  type RunStats,
  type SourceStats,
  type StageStats,
  type Settle,
  type CallOutcome,
  type Telemetry,
  type TelemetryBatch,
  type TelemetryCall,
  type SourceOutcome,
  type TimeoutPolicy,
  type ValidationIssue,
  type ValidationPathSegment,
} from "@sluice/core";
export { rateLimiter } from "./rate-limiter.js";
export { concurrencyLimiter } from "./concurrency-limiter.js";
export { concat } from "./concat.js";
export type { Context, EngineContext, HookInfo } from "./context.js";
export type { Operator } from "./operator.js";
export type { BatchOptions } from "./batch-options.js";
export { batch, drop, each, filter, flat, flatMap, map, ordered, scan, take, takeWhile, tap } from "./operators.js";
export { pipe } from "./pipe.js";
export { Pipeline, type FlatElement, type FlatMapResult } from "./pipeline.js";
export {
  source,
  type CheckpointOptions,
  type CheckpointSaving,
  type ElementOf,
  type IterableSource,
  type SettleOptions,
  type Source,
  type SourceOptions,
} from "./source.js";
export { pathBelowSource } from "./source-path.js";
export { resolveStageOptions, type AdaptiveWorkers, type FallbackOptions, type HookContext, type NotThenable, type RetryOptions, type StageFn, type StageGuard, type StageMethod, type StageOptionKeys, type StageOptions } from "./stage-options.js";
export type { SchemaOutput, StandardFailure, StandardResult, StandardSchema, StandardSchemaProps, StandardSuccess, StandardTypes } from "./standard-schema.js";
