/**
 * A BullMQ job's trace context continues in the pipeline that takes it (docs/behaviour.md §14),
 * against the real Redis of the test run: BullMQ keeps the producer's context in the job's
 * `opts.telemetry.metadata`, and `otelTelemetry()` makes it the parent of the job's spans.
 */
import { describe, expect, it } from "vitest";
import { jobs } from "@sluice/bullmq";
import { otelTelemetry, traceMetadata } from "@sluice/otel";
import { idOf, named, parentOf, tracer, useOtel } from "../otel/support.js";
import { connection, freshQueue } from "./support.js";

useOtel();

describe("jobs() with otelTelemetry()", () => {
  it("a job added inside a span continues that trace in the consumer; a job without one hangs from the run", async () => {
    const queue = freshQueue<{ n: number }>("traced");
    await tracer.startActiveSpan("checkout", async (span) => {
      await queue.add("traced", { n: 1 }, { telemetry: { metadata: traceMetadata() } });
      span.end();
    });
    await queue.add("plain", { n: 2 });

    const telemetry = otelTelemetry({ tracer });
    await jobs<{ n: number }>(queue.name, { connection: connection(), endWhenDrained: true })
      .map(
        async (job) => {
          const query = tracer.startSpan(`query ${job.data.n}`);
          await new Promise((resolve) => setTimeout(resolve, 1));
          query.end();
          return job.data.n;
        },
        { name: "process" },
      )
      .run({ telemetry });

    const [checkout] = named("checkout");
    const [run] = named("sluice run");
    const calls = named("process");
    expect(calls).toHaveLength(2);
    const traced = calls.find((call) => call.spanContext().traceId === checkout!.spanContext().traceId)!;
    const plain = calls.find((call) => call !== traced)!;
    // The traced job's element: its call span is a child of the producer's span, linked to the run.
    expect(traced).toBeDefined();
    expect(parentOf(traced)).toBe(idOf(checkout!));
    expect(traced.links.map((link) => link.context.spanId)).toEqual([idOf(run!)]);
    // ...and what f opens nests under it, in the producer's trace.
    const [query1] = named("query 1");
    expect(parentOf(query1!)).toBe(idOf(traced));
    expect(query1!.spanContext().traceId).toBe(checkout!.spanContext().traceId);
    // The job without a context: its spans are in the run's trace, under the run span.
    expect(plain.spanContext().traceId).toBe(run!.spanContext().traceId);
    expect(parentOf(plain)).toBe(idOf(run!));
    expect(plain.links).toEqual([]);
    expect(run!.spanContext().traceId).not.toBe(checkout!.spanContext().traceId);
  });
});
