/**
 * `@sluice/otel`: sluice pipelines in [OpenTelemetry](https://opentelemetry.io) traces and
 * metrics. {@link otelTelemetry} gives the `telemetry` run option: a span per run and per call
 * of each stage (per attempt), `f` running inside its call's span, batches linked to their
 * elements, a `sluice.call.duration` histogram and counters from `RunStats`. A BullMQ job's
 * trace context ({@link jobTraceContext}) becomes the parent of its element's spans.
 * `@opentelemetry/api` is a peer dependency: the SDK, exporters and context manager are the
 * application's.
 *
 * @example
 * ```ts
 * import { pipe } from "@sluice/dsl";
 * import { otelTelemetry } from "@sluice/otel";
 *
 * const telemetry = otelTelemetry();
 * await pipe(urls).map((url) => fetch(url), { workers: 8 }).run({ telemetry });
 * ```
 *
 * @packageDocumentation
 * @module @sluice/otel
 */
export { otelTelemetry, type OtelTelemetryOptions } from "./otel-telemetry.js";
export { jobTraceContext, traceMetadata } from "./job-context.js";
