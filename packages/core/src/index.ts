/**
 * `@sluice/core`: the engine behind sluice. A pipeline is a graph of frozen nodes
 * ({@link Node}); {@link collect} and {@link iterate} run one. Most users import
 * `@sluice/dsl` instead, which builds these graphs with a typed fluent API.
 *
 * @packageDocumentation
 * @module @sluice/core
 */
export { BoundedQueue } from "./bounded-queue.js";
export { createBatchNode, isBatchNode, type BatchNode } from "./nodes/batch-node.js";
export { RESERVED_CONTEXT_KEYS, type EngineContext, type HookInfo } from "./context.js";
export { describeValue } from "./describe-value.js";
export { RateLimiter, type RateWaiter } from "./rate-limiter.js";
export { ConcurrencyLimiter, type ConcurrencyWaiter } from "./concurrency-limiter.js";
export {
  DrainTimeoutError,
  ElementError,
  ElementErrors,
  OptionsError,
  TimeoutError,
  ValidationError,
  type OptionsErrorOptions,
  type OptionsIssue,
  type ValidationIssue,
  type ValidationPathSegment,
} from "./errors.js";
export { createConcatNode, isConcatNode, type ConcatNode } from "./nodes/concat-node.js";
export { inputsOf, type Node } from "./nodes/node.js";
export { createOrderedNode, isOrderedNode, type OrderedNode } from "./nodes/ordered-node.js";
export { createSliceNode, isSliceNode, type SliceMode, type SliceNode } from "./nodes/slice-node.js";
export { createSourceNode, isSourceLike, isSourceNode, type SourceNode } from "./nodes/source-node.js";
export {
  ERROR_POLICIES,
  checkpointDefaults,
  JITTER_MODES,
  TIMEOUT_POLICIES,
  adaptiveDefaults,
  defaultMaxsize,
  isPushbackError,
  maxRetryFactor,
  maxWorkers,
  maxTimerDelay,
  retryDefaults,
  stageDefaults,
  type Checkpoint,
  type CheckpointSettings,
  type ConcurrencyBounds,
  type ErrorPolicy,
  type JitterMode,
  type RetrySettings,
  type RateLimitWindow,
  type StageFunction,
  type StageKeyFunction,
  type StageSettings,
  type TimeoutPolicy,
} from "./nodes/stage-settings.js";
export { STAGE_KINDS, createStageNode, isStageNode, type StageKind, type StageNode } from "./nodes/stage-node.js";
export { collect, collectResult, iterate, type RunOptions, type RunResult } from "./run-graph.js";
export type { RunState, RunStats, SourceStats, StageStats } from "./run-stats.js";
export { CallContext, StageInfo } from "./run/stage-info.js";
export type { Settle, SourceOutcome } from "./nodes/source-outcome.js";
export { isPromiseLike } from "./run/thenable.js";
export type { CallOutcome, Telemetry, TelemetryBatch, TelemetryCall } from "./telemetry.js";
