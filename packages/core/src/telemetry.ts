import type { StageKind } from "./nodes/stage-node.js";
import type { RunStats } from "./run-stats.js";

/**
 * How one call of a stage's `f` ended, as {@link Telemetry.callEnded} hears it: `"ok"` (it
 * returned, or its promise fulfilled), `"error"` (it threw or rejected), `"timeout"` (it ran
 * past the stage's `timeout`), `"cancelled"` (the run was being torn down when it failed,
 * most often because teardown aborted its `ctx.signal`).
 *
 * @example
 * ```ts
 * const outcome: CallOutcome = "timeout";
 * ```
 */
export type CallOutcome = "ok" | "error" | "timeout" | "cancelled";

/**
 * One call of a stage's `f` about to start, handed to {@link Telemetry.callStarted}.
 *
 * @typeParam Span - the telemetry's own handle for a span (see {@link Telemetry})
 * @example
 * ```ts
 * const describe = (call: TelemetryCall<unknown>) => `${call.stage} [${call.index.join(".")}] attempt ${call.attempt}`;
 * ```
 */
export interface TelemetryCall<Span> {
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
  /** What kind of stage it is. */
  readonly kind: StageKind;
  /** The element's index path (as `ctx.index`). */
  readonly index: readonly number[];
  /** Which attempt at this element the call is: 1, then 2, 3... under the stage's `retry`. */
  readonly attempt: number;
  /**
   * What the call's span should hang from: the run's span, or the element's own parent (from
   * {@link Telemetry.elementParent}, or the span of the batch the element is).
   */
  readonly parent: Span;
  /** The run's span (the same as `parent` unless the element has a parent of its own). */
  readonly run: Span;
}

/**
 * A batch that a `batch()` stage is sending on, handed to {@link Telemetry.batchEmitted}.
 *
 * @typeParam Span - the telemetry's own handle for a span (see {@link Telemetry})
 * @example
 * ```ts
 * const describe = (batch: TelemetryBatch<unknown>) => `batch ${batch.index}: ${batch.size} elements, ${batch.links.length} links`;
 * ```
 */
export interface TelemetryBatch<Span> {
  /** The batch stage's name (`"batch"`). */
  readonly stage: string;
  /** The batch's position among the stage's batches (its index path is `[index]`). */
  readonly index: number;
  /** How many elements the batch holds. */
  readonly size: number;
  /** When the batch's first element arrived (`Date.now()` milliseconds): the batch span starts there. */
  readonly startTime: number;
  /** The run's span, which the batch span hangs from. */
  readonly run: Span;
  /**
   * The latest call span of each element of the batch (or that element's own parent when no
   * stage has called `f` on it yet), in the batch's order: one link each.
   */
  readonly links: readonly Span[];
}

/**
 * What a run reports to a tracing or metrics system, through the `telemetry` run option.
 * The engine depends on no telemetry library: `@sluice/otel` implements this on OpenTelemetry,
 * and any object with these methods will do. `Span` is the implementation's own handle for a
 * span (and its context); the engine only hands it back.
 *
 * Without a `telemetry` option the engine creates nothing of this and calls nothing. With one,
 * the run opens a span when it starts, a span per call of each stage's `f` (each attempt is a
 * call) that `f` runs inside, a span per batch linked to its elements' spans, reports
 * {@link RunStats} on the `progressInterval` and once at the end, and ends the run's span as
 * the run settles. A method that throws fails the run, as a throwing `onProgress` does (one
 * called around `f` fails that call).
 *
 * @typeParam Span - the implementation's handle for a span
 * @example
 * ```ts
 * // A telemetry that logs each call; @sluice/otel's otelTelemetry() is the real one.
 * const log: Telemetry<string> = {
 *   runStarted: () => "run",
 *   callStarted: ({ stage, index, attempt }) => `${stage} ${index.join(".")} #${attempt}`,
 *   within: (_span, fn, ...args) => fn(...args),
 *   callEnded: (span, outcome) => console.log(span, outcome),
 *   batchEmitted: ({ index }) => `batch ${index}`,
 *   runEnded: (_span, stats) => console.log(stats.state),
 * };
 * await pipe([1, 2, 3]).map((x) => x * 2).run({ telemetry: log });
 * ```
 */
export interface Telemetry<Span = unknown> {
  /** A run starts: open its span. */
  runStarted(): Span;
  /**
   * The parent of an element's spans, read from a source element (say, the trace context a
   * BullMQ job carries), or `undefined` for none: then they hang from the run's span. Asked
   * once per element, by the first stage after the source.
   */
  elementParent?(run: Span, element: unknown): Span | undefined;
  /** A call of `f` starts: open its span. */
  callStarted(call: TelemetryCall<Span>): Span;
  /**
   * Runs `fn(...args)` inside `span`'s context and returns what it returns, so that the spans
   * `f` itself opens (through its HTTP or database client) nest under the call's span.
   */
  within<A extends unknown[], R>(span: Span, fn: (...args: A) => R, ...args: A): R;
  /** A call has ended: end its span; `error` is what it threw or rejected with (`undefined` when `"ok"`). */
  callEnded(span: Span, outcome: CallOutcome, error: unknown): void;
  /** A `batch()` stage sends a batch on: open and end its span, which the batch's own calls then hang from. */
  batchEmitted(batch: TelemetryBatch<Span>): Span;
  /** The run's figures so far, every `progressInterval` ms while it goes and once more at the end. */
  progress?(run: Span, stats: RunStats): void;
  /**
   * The run has settled: end its span. `error` is what it failed with, or the caller's abort
   * reason when `stats.state` is `"aborted"` by a signal; `undefined` when it ended normally or
   * the consumer left early.
   */
  runEnded(run: Span, stats: RunStats, error: unknown): void;
}
