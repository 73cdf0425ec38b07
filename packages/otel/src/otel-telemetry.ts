import {
  SpanKind,
  SpanStatusCode,
  context as contextApi,
  metrics,
  trace,
  type Context,
  type Histogram,
  type Link,
  type Meter,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { CallOutcome, RunStats, Telemetry, TelemetryBatch, TelemetryCall } from "@sluice/core";
import { jobTraceContext } from "./job-context.js";
import { RunMetrics, RunTally } from "./run-metrics.js";

/**
 * The options of {@link otelTelemetry}.
 *
 * @example
 * ```ts
 * const options: OtelTelemetryOptions = { tracer: trace.getTracer("orders"), meter: metrics.getMeter("orders") };
 * ```
 */
export interface OtelTelemetryOptions {
  /** Where spans go; default `trace.getTracer("@sluice/otel")` (the global tracer provider). */
  readonly tracer?: Tracer | undefined;
  /** Where metrics go; default `metrics.getMeter("@sluice/otel")` (the global meter provider). */
  readonly meter?: Meter | undefined;
  /**
   * The trace context a source element carries, which its spans then continue (`undefined`:
   * none, they hang from the run's span). Default {@link jobTraceContext}: a BullMQ job's.
   */
  readonly elementContext?: ((element: unknown) => Context | undefined) | undefined;
}

/** The handle the engine carries for each span: the span, the context it is active in, when it started. */
class Traced {
  constructor(
    readonly span: Span | undefined,
    readonly context: Context,
    readonly started: number,
    readonly stage: string,
  ) {}
}

/** A run's handle: also what its metrics have reported so far. */
class TracedRun extends Traced {
  readonly tally = new RunTally();
}

/**
 * A sluice `Telemetry` on OpenTelemetry: pass it as the `telemetry` run option (one value
 * serves any number of runs, at once or one after another).
 *
 * - A span `sluice run` per run, ending as the run settles, with `sluice.state`; a failed run
 *   is status ERROR with an exception event.
 * - A span per call of each stage's `f`, one per attempt, named for the stage, with
 *   `sluice.stage`, `sluice.kind`, `sluice.index` (the index path), `sluice.attempt` and, at
 *   its end, `sluice.outcome` (`ok`, `error`, `timeout`, `cancelled`). A failure (`error`,
 *   `timeout`) is status ERROR with an exception event. `f` runs inside the span's context,
 *   so the spans its own clients open are its children.
 * - A span `batch` per batch of a `batch()` stage, from its first element's arrival to its
 *   emission, with one link per element (to that element's latest call span); the calls on
 *   the batch are its children.
 * - An element whose source element carries a trace context (a BullMQ job, see
 *   {@link jobTraceContext}) has its call spans in that trace, each linked to the run's span.
 * - Metrics: `sluice.call.duration` (histogram, seconds, by `sluice.stage` and
 *   `sluice.outcome`); `sluice.stage.taken`, `.done`, `.emitted`, `.dropped`, `.skipped`,
 *   `.failed`, `.cancelled`, `.retried`, `.timed_out` (counters by `sluice.stage` and
 *   `sluice.kind`, from `RunStats`, added as the run reports them: every `progressInterval`
 *   and at its end); `sluice.source.pulled`, `sluice.delivered`, and `sluice.runs` (by
 *   `sluice.state`).
 *
 * @example
 * ```ts
 * import { pipe } from "@sluice/dsl";
 * import { otelTelemetry } from "@sluice/otel";
 *
 * const telemetry = otelTelemetry(); // the global tracer and meter providers
 * const users = await pipe(ids).map(fetchUser, { workers: 8, retry: 2 }).toArray({ telemetry });
 * ```
 */
export function otelTelemetry(options: OtelTelemetryOptions = {}): Telemetry {
  return new OtelTelemetry(
    options.tracer ?? trace.getTracer("@sluice/otel"),
    options.meter ?? metrics.getMeter("@sluice/otel"),
    options.elementContext ?? jobTraceContext,
  ) as Telemetry;
}

class OtelTelemetry implements Telemetry<Traced> {
  readonly #tracer: Tracer;
  readonly #durations: Histogram;
  readonly #metrics: RunMetrics;
  readonly #elementContext: (element: unknown) => Context | undefined;

  constructor(tracer: Tracer, meter: Meter, elementContext: (element: unknown) => Context | undefined) {
    this.#tracer = tracer;
    this.#elementContext = elementContext;
    this.#durations = meter.createHistogram("sluice.call.duration", {
      description: "How long a call of a stage's function took, per attempt",
      unit: "s",
    });
    this.#metrics = new RunMetrics(meter);
  }

  runStarted(): Traced {
    const parent = contextApi.active();
    const span = this.#tracer.startSpan("sluice run", { kind: SpanKind.INTERNAL }, parent);
    return new TracedRun(span, trace.setSpan(parent, span), performance.now(), "");
  }

  elementParent(run: Traced, element: unknown): Traced | undefined {
    const context = this.#elementContext(element);
    return context === undefined ? undefined : new Traced(trace.getSpan(context), context, 0, run.stage);
  }

  callStarted(call: TelemetryCall<Traced>): Traced {
    const { parent, run } = call;
    // An element from another trace (a job's) is linked back to the run that handled it.
    const runSpan = run.span!.spanContext();
    const links: Link[] | undefined = parent.span !== undefined && parent.span.spanContext().traceId !== runSpan.traceId ? [{ context: runSpan }] : undefined;
    const span = this.#tracer.startSpan(
      call.stage,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          "sluice.stage": call.stage,
          "sluice.kind": call.kind,
          "sluice.index": call.index as number[],
          "sluice.attempt": call.attempt,
        },
        ...(links === undefined ? {} : { links }),
      },
      parent.context,
    );
    return new Traced(span, trace.setSpan(parent.context, span), performance.now(), call.stage);
  }

  within<A extends unknown[], R>(span: Traced, fn: (...args: A) => R, ...args: A): R {
    return contextApi.with(span.context, fn, undefined, ...args);
  }

  callEnded(call: Traced, outcome: CallOutcome, error: unknown): void {
    const span = call.span!;
    span.setAttribute("sluice.outcome", outcome);
    if (outcome === "error" || outcome === "timeout") fail(span, error);
    span.end();
    this.#durations.record((performance.now() - call.started) / 1000, { "sluice.stage": call.stage, "sluice.outcome": outcome });
  }

  batchEmitted(batch: TelemetryBatch<Traced>): Traced {
    const links: Link[] = [];
    for (const element of batch.links) {
      if (element.span !== undefined) links.push({ context: element.span.spanContext() });
    }
    const parent = batch.run.context;
    const span = this.#tracer.startSpan(
      batch.stage,
      {
        kind: SpanKind.INTERNAL,
        startTime: batch.startTime,
        attributes: { "sluice.stage": batch.stage, "sluice.kind": "batch", "sluice.index": [batch.index], "sluice.batch.size": batch.size },
        links,
      },
      parent,
    );
    span.end();
    return new Traced(span, trace.setSpan(parent, span), 0, batch.stage);
  }

  progress(run: Traced, stats: RunStats): void {
    this.#metrics.report((run as TracedRun).tally, stats);
  }

  runEnded(run: Traced, stats: RunStats, error: unknown): void {
    this.#metrics.report((run as TracedRun).tally, stats);
    this.#metrics.ended(stats);
    const span = run.span!;
    span.setAttribute("sluice.state", stats.state);
    if (stats.state === "failed") fail(span, error);
    span.end();
  }
}

/** Marks `span` failed with `error`: status ERROR and an exception event. */
function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
