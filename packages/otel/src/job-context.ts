import { ROOT_CONTEXT, context as contextApi, propagation, trace, type Context } from "@opentelemetry/api";

/** The part of a BullMQ job that carries its producer's trace context (`job.opts.telemetry.metadata`). */
interface TracedJob {
  readonly opts?: { readonly telemetry?: { readonly metadata?: unknown } | undefined } | undefined;
}

/**
 * The trace context a BullMQ job carries, or `undefined` when it carries none. BullMQ keeps
 * it in `job.opts.telemetry.metadata`: the carrier of the global propagator, as JSON (what
 * BullMQ's own `telemetry` option writes when a job is added, and what {@link traceMetadata}
 * gives). `otelTelemetry()` reads it from every source element by default, so the spans of a
 * job's element continue the trace that added the job. Works on any object of that shape:
 * neither this package nor `@sluice/bullmq` depends on the other.
 *
 * @param element - a source element: a BullMQ `Job`, or anything else (which gives `undefined`)
 * @example
 * ```ts
 * const parent = jobTraceContext(job); // a Context whose span is the producer's, or undefined
 * ```
 */
export function jobTraceContext(element: unknown): Context | undefined {
  if (element === null || typeof element !== "object") return undefined;
  const metadata = (element as TracedJob).opts?.telemetry?.metadata;
  if (typeof metadata !== "string") return undefined;
  let carrier: unknown;
  try {
    carrier = JSON.parse(metadata);
  } catch {
    // Not ours to fail a run over: a job with unreadable metadata just starts no trace of its own.
    return undefined;
  }
  if (carrier === null || typeof carrier !== "object") return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  return trace.getSpanContext(extracted) === undefined ? undefined : extracted;
}

/**
 * The current trace context as BullMQ job metadata: pass it as `telemetry.metadata` in a
 * job's options, and the pipeline that takes the job (with `otelTelemetry()`) continues this
 * trace. BullMQ's own `telemetry` queue option writes the same thing; this is for queues
 * without it. Uses the global propagator, which must be set (the OpenTelemetry SDKs set W3C
 * trace context by default).
 *
 * @param context - the context to carry; the active one by default
 * @example
 * ```ts
 * await queue.add("resize", { url }, { telemetry: { metadata: traceMetadata() } });
 * ```
 */
export function traceMetadata(context: Context = contextApi.active()): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context, carrier);
  return JSON.stringify(carrier);
}
