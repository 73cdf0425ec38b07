import type { Context, Meter, Tracer } from "@opentelemetry/api";
import { describe, expectTypeOf, it } from "vitest";
import { pipe, type CallOutcome, type RunOptions, type Telemetry, type TelemetryBatch, type TelemetryCall } from "@sluice/dsl";
import { jobTraceContext, otelTelemetry, traceMetadata, type OtelTelemetryOptions } from "@sluice/otel";

declare const tracer: Tracer;
declare const meter: Meter;

describe("telemetry types", () => {
  it("otelTelemetry() gives a Telemetry that every way of consuming takes", () => {
    const telemetry = otelTelemetry({ tracer, meter, elementContext: jobTraceContext });
    expectTypeOf(telemetry).toEqualTypeOf<Telemetry>();
    expectTypeOf(otelTelemetry()).toEqualTypeOf<Telemetry>();
    const numbers = pipe([1, 2]).map((x) => x + 1);
    expectTypeOf(numbers.toArray({ telemetry })).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(numbers.run({ telemetry, onProgress: () => undefined })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(numbers.iterate({ telemetry })).toEqualTypeOf<AsyncIterableIterator<number>>();
    expectTypeOf(numbers.toReadableStream({ telemetry })).toEqualTypeOf<ReadableStream<number>>();
    expectTypeOf(numbers.toResult({ telemetry })).resolves.toHaveProperty("results");
  });

  it("a Telemetry with a span type of its own is a RunOptions telemetry", () => {
    const spans: Telemetry<{ id: number }> = {
      runStarted: () => ({ id: 0 }),
      callStarted: (call) => {
        expectTypeOf(call).toEqualTypeOf<TelemetryCall<{ id: number }>>();
        expectTypeOf(call.parent).toEqualTypeOf<{ id: number }>();
        expectTypeOf(call.index).toEqualTypeOf<readonly number[]>();
        return { id: call.attempt };
      },
      within: (_span, fn, ...args) => fn(...args),
      callEnded: (_span, outcome) => expectTypeOf(outcome).toEqualTypeOf<CallOutcome>(),
      batchEmitted: (batch) => {
        expectTypeOf(batch).toEqualTypeOf<TelemetryBatch<{ id: number }>>();
        return { id: batch.index };
      },
      runEnded: () => undefined,
    };
    const options: RunOptions = { telemetry: spans };
    expectTypeOf(options.telemetry).toEqualTypeOf<Telemetry | undefined>();
  });

  it("what must not compile", () => {
    // @ts-expect-error a telemetry needs its methods
    void pipe([1]).run({ telemetry: { runStarted: () => 1 } });
    // @ts-expect-error not an option of otelTelemetry
    void otelTelemetry({ sampler: 1 } satisfies OtelTelemetryOptions);
    // @ts-expect-error elementContext returns a Context, not a string
    void otelTelemetry({ elementContext: () => "parent" });
  });

  it("the BullMQ helpers", () => {
    expectTypeOf(jobTraceContext).parameter(0).toEqualTypeOf<unknown>();
    expectTypeOf(jobTraceContext({})).toEqualTypeOf<Context | undefined>();
    expectTypeOf(traceMetadata()).toEqualTypeOf<string>();
  });
});
