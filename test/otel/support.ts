/**
 * Shared tools of the @sluice/otel tests: a tracer provider that keeps finished spans in
 * memory, the async-hooks context manager (so `f`'s own spans find their parent across
 * awaits), a W3C `traceparent` propagator for BullMQ's metadata, and a meter provider whose
 * metrics a test collects on demand.
 */
import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach } from "vitest";

/** W3C trace context, only `traceparent`: what BullMQ's metadata needs to carry a parent. */
class TraceParent implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (span === undefined || !isSpanContextValid(span)) return;
    setter.set(carrier, "traceparent", `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = getter.get(carrier, "traceparent");
    const match = typeof header === "string" ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(header) : null;
    if (match === null) return ctx;
    return trace.setSpanContext(ctx, { traceId: match[1]!, spanId: match[2]!, traceFlags: Number.parseInt(match[3]!, 16), isRemote: true });
  }

  fields(): string[] {
    return ["traceparent"];
  }
}

/** A reader that exports nothing by itself: a test calls `collect()`. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export const exporter = new InMemorySpanExporter();
export const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
export const tracer = provider.getTracer("test");

/** Installs the context manager and the propagator for the file's tests, and empties the exporter before each. */
export function useOtel(): void {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
    propagation.setGlobalPropagator(new TraceParent());
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());
}

/** A meter provider with a reader of its own (fresh per test, so counts start at zero). */
export function freshMeter() {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meter: meterProvider.getMeter("test"),
    /** Every metric collected now, by name. */
    async collect(): Promise<Map<string, MetricData>> {
      const { resourceMetrics } = await reader.collect();
      const byName = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
      return byName;
    },
  };
}

/** The value of a counter's data point whose attribute `key` is `value` (0 when there is none). */
export function pointValue(metric: MetricData | undefined, key: string, value: string): number {
  const point = metric?.dataPoints.find((p) => p.attributes[key] === value);
  return (point?.value as number | undefined) ?? 0;
}

/** How many values a histogram recorded for the data points matching `key` = `value`. */
export function histogramCount(metric: MetricData | undefined, key: string, value: string): number {
  let count = 0;
  for (const point of (metric?.dataPoints ?? []) as DataPoint<Histogram>[]) if (point.attributes[key] === value) count += point.value.count;
  return count;
}

/** The finished spans so far. */
export const spans = (): ReadableSpan[] => exporter.getFinishedSpans();

/** The finished spans named `name`. */
export const named = (name: string): ReadableSpan[] => spans().filter((span) => span.name === name);

/** A span's id. */
export const idOf = (span: ReadableSpan): string => span.spanContext().spanId;

/** The id of a span's parent, or undefined for a root. */
export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** A call span's element index path, as a string ("3", "1.0"). */
export const indexOf = (span: ReadableSpan): string => (span.attributes["sluice.index"] as number[]).join(".");

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
