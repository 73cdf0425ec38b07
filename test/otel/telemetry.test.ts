/**
 * @sluice/otel (docs/behaviour.md §14): the spans and metrics of a run, checked with the SDK's
 * in-memory exporter and the async-hooks context manager.
 */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { OptionsError, pipe, type RunStats, type Telemetry } from "@sluice/dsl";
import { otelTelemetry } from "@sluice/otel";
import { freshMeter, histogramCount, idOf, indexOf, named, parentOf, pointValue, sleep, spans, tracer, useOtel } from "./support.js";

useOtel();

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("spans of a run", () => {
  it("a run span, and one call span per element per stage, children of the run span", async () => {
    const telemetry = otelTelemetry({ tracer });
    const out = await pipe(range(6))
      .map((x) => x * 2, { name: "double", workers: 3 })
      .filter(async (x) => (await sleep(1), x % 4 === 0), { name: "keep" })
      .toArray({ telemetry });
    expect(out.sort((a, b) => a - b)).toEqual([0, 4, 8]);
    const [run] = named("sluice run");
    expect(named("sluice run")).toHaveLength(1);
    expect(run!.attributes["sluice.state"]).toBe("done");
    expect(run!.status.code).toBe(SpanStatusCode.UNSET);
    for (const stage of ["double", "keep"]) {
      const calls = named(stage);
      expect(calls.map(indexOf).sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
      for (const call of calls) {
        expect(parentOf(call)).toBe(idOf(run!));
        expect(call.spanContext().traceId).toBe(run!.spanContext().traceId);
        expect(call.attributes).toMatchObject({ "sluice.stage": stage, "sluice.attempt": 1, "sluice.outcome": "ok" });
      }
    }
    expect(named("double")[0]!.attributes["sluice.kind"]).toBe("map");
    expect(named("keep")[0]!.attributes["sluice.kind"]).toBe("filter");
  });

  it("spans that f opens, after awaits, are children of that element's call span", async () => {
    const telemetry = otelTelemetry({ tracer });
    await pipe(range(8))
      .map(
        async (x) => {
          await sleep(x % 3);
          // What an HTTP or database client does: a span from the active context.
          const span = tracer.startSpan(`query ${x}`);
          await sleep(1);
          span.end();
          return x;
        },
        { name: "fetch", workers: 4 },
      )
      .run({ telemetry });
    const calls = new Map(named("fetch").map((call) => [indexOf(call), call]));
    expect(calls.size).toBe(8);
    for (let x = 0; x < 8; x++) {
      const [query] = named(`query ${x}`);
      expect(parentOf(query!)).toBe(idOf(calls.get(String(x))!));
    }
  });

  it("a sync f runs inside its span too", async () => {
    const telemetry = otelTelemetry({ tracer });
    const seen: (string | undefined)[] = [];
    await pipe(range(3))
      .each((x) => void seen.push(trace.getActiveSpan() === undefined ? undefined : String(x)), { name: "sync" })
      .run({ telemetry });
    expect(seen).toEqual(["0", "1", "2"]);
    const active = named("sync").map(indexOf).sort();
    expect(active).toEqual(["0", "1", "2"]);
  });

  it("retries give one span per attempt; failed attempts are ERROR with an exception event", async () => {
    const telemetry = otelTelemetry({ tracer });
    const failures = new Map<number, number>([
      [1, 2],
      [3, 1],
    ]);
    await pipe(range(5))
      .map(
        (x) => {
          const left = failures.get(x) ?? 0;
          if (left > 0) {
            failures.set(x, left - 1);
            throw new Error(`flaky ${x}`);
          }
          return x;
        },
        { name: "flaky", retry: { retries: 3, minDelay: 1, maxDelay: 2 } },
      )
      .run({ telemetry });
    const calls = named("flaky");
    expect(calls).toHaveLength(5 + 3);
    const of = (x: number) => calls.filter((call) => indexOf(call) === String(x)).sort((a, b) => (a.attributes["sluice.attempt"] as number) - (b.attributes["sluice.attempt"] as number));
    expect(of(1).map((call) => call.attributes["sluice.attempt"])).toEqual([1, 2, 3]);
    expect(of(3).map((call) => call.attributes["sluice.attempt"])).toEqual([1, 2]);
    for (const x of [1, 3]) {
      const attempts = of(x);
      for (const failed of attempts.slice(0, -1)) {
        expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: `flaky ${x}` });
        expect(failed.attributes["sluice.outcome"]).toBe("error");
        expect(failed.events.map((event) => event.name)).toEqual(["exception"]);
        expect(failed.events[0]!.attributes!["exception.message"]).toBe(`flaky ${x}`);
      }
      expect(attempts.at(-1)!.status.code).toBe(SpanStatusCode.UNSET);
      expect(attempts.at(-1)!.events).toEqual([]);
    }
  });

  it("a failure that fails the run: its call span and the run span are ERROR with an exception event", async () => {
    const telemetry = otelTelemetry({ tracer });
    const boom = new Error("boom");
    await expect(
      pipe(range(3))
        .map(async (x) => {
          if (x === 1) throw boom;
          return x;
        }, { name: "breaks" })
        .run({ telemetry }),
    ).rejects.toBe(boom);
    const failed = named("breaks").find((call) => indexOf(call) === "1")!;
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: "boom" });
    expect(failed.events[0]!.name).toBe("exception");
    const [run] = named("sluice run");
    expect(run!.attributes["sluice.state"]).toBe("failed");
    expect(run!.status).toEqual({ code: SpanStatusCode.ERROR, message: "boom" });
    expect(run!.events.map((event) => event.name)).toEqual(["exception"]);
  });

  it("a timed-out call ends as timeout (ERROR) even when f never settles", async () => {
    const telemetry = otelTelemetry({ tracer });
    await pipe([1, 2])
      .map((x) => (x === 1 ? new Promise(() => {}) : x), { name: "slow", timeout: 20, onError: "skip" })
      .run({ telemetry });
    const slow = named("slow").find((call) => indexOf(call) === "0")!;
    expect(slow.attributes["sluice.outcome"]).toBe("timeout");
    expect(slow.status.code).toBe(SpanStatusCode.ERROR);
    expect(slow.events[0]!.attributes!["exception.type"]).toBe("TimeoutError");
  });

  it("a batch span links each of its elements' call spans, and the calls on the batch are its children", async () => {
    const telemetry = otelTelemetry({ tracer });
    await pipe(range(7))
      .map(async (x) => (await sleep(x % 2), x), { name: "prepare", workers: 3 })
      .batch(3)
      .each(async () => sleep(1), { name: "insert" })
      .run({ telemetry });
    const prepared = new Map(named("prepare").map((call) => [idOf(call), call]));
    const batches = named("batch").sort((a, b) => (a.attributes["sluice.index"] as number[])[0]! - (b.attributes["sluice.index"] as number[])[0]!);
    expect(batches.map((batch) => batch.links.length)).toEqual([3, 3, 1]);
    expect(batches.map((batch) => batch.attributes["sluice.batch.size"])).toEqual([3, 3, 1]);
    const linked = batches.flatMap((batch) => batch.links.map((link) => link.context.spanId));
    // Every element's call span is linked exactly once.
    expect(new Set(linked).size).toBe(7);
    for (const id of linked) expect(prepared.has(id)).toBe(true);
    const inserts = named("insert");
    expect(inserts.map((insert) => parentOf(insert)).sort()).toEqual(batches.map(idOf).sort());
    const [run] = named("sluice run");
    for (const batch of batches) expect(parentOf(batch)).toBe(idOf(run!));
  });

  it("runs at once keep their spans apart, each under its own run span", async () => {
    const telemetry = otelTelemetry({ tracer });
    await Promise.all([1, 2, 3].map((n) => pipe(range(n)).map(async (x) => (await sleep(1), x), { name: `run-of-${n}` }).run({ telemetry })));
    const runs = named("sluice run");
    expect(runs).toHaveLength(3);
    for (const n of [1, 2, 3]) {
      const calls = named(`run-of-${n}`);
      expect(calls).toHaveLength(n);
      expect(new Set(calls.map(parentOf)).size).toBe(1);
      expect(runs.map(idOf)).toContain(parentOf(calls[0]!));
    }
  });
});

describe("where a run's spans hang", () => {
  it("a run started inside a span (a request handler's) is its child", async () => {
    const telemetry = otelTelemetry({ tracer });
    await tracer.startActiveSpan("GET /report", async (request) => {
      await pipe([1, 2]).map((x) => x, { name: "step" }).run({ telemetry });
      request.end();
    });
    const [request] = named("GET /report");
    const [run] = named("sluice run");
    expect(parentOf(run!)).toBe(idOf(request!));
    expect(named("step").map(parentOf)).toEqual([idOf(run!), idOf(run!)]);
  });

  it("an aborted run is not an error; the calls teardown cut short end as cancelled", async () => {
    const telemetry = otelTelemetry({ tracer });
    const controller = new AbortController();
    const started: number[] = [];
    const run = pipe(range(4))
      .map(
        (x, { signal }) => {
          started.push(x);
          if (started.length === 2) queueMicrotask(() => controller.abort(new Error("stop")));
          return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        },
        { name: "wait", workers: 2 },
      )
      .run({ telemetry, signal: controller.signal });
    await expect(run).rejects.toThrow("stop");
    const [runSpan] = named("sluice run");
    expect(runSpan!.attributes["sluice.state"]).toBe("aborted");
    expect(runSpan!.status.code).toBe(SpanStatusCode.UNSET);
    const calls = named("wait");
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.attributes["sluice.outcome"]).toBe("cancelled");
      expect(call.status.code).toBe(SpanStatusCode.UNSET);
    }
  });
});

describe("metrics", () => {
  it("counters count what RunStats counts, and the duration histogram has one value per call", async () => {
    const { meter, collect } = freshMeter();
    const telemetry = otelTelemetry({ tracer, meter });
    let final: RunStats | undefined;
    const attempts = new Map<number, number>();
    await pipe(range(20))
      .map(
        (x) => {
          const n = (attempts.get(x) ?? 0) + 1;
          attempts.set(x, n);
          if (x % 5 === 0 && n === 1) throw new Error("once");
          if (x === 7) throw new Error("always");
          return x;
        },
        { name: "work", retry: { retries: 1, minDelay: 1 }, onError: "skip" },
      )
      .filter((x) => x % 2 === 0, { name: "even" })
      .toArray({ telemetry, onProgress: (stats) => (final = stats), progressInterval: 5 });
    const metrics = await collect();
    const stages = final!.stages;
    expect(stages.map((stage) => stage.name)).toEqual(["work", "even"]);
    for (const stage of stages) {
      for (const [counter, name] of [
        ["taken", "taken"],
        ["done", "done"],
        ["emitted", "emitted"],
        ["dropped", "dropped"],
        ["skipped", "skipped"],
        ["retried", "retried"],
      ] as const) {
        expect(pointValue(metrics.get(`sluice.stage.${name}`), "sluice.stage", stage.name), `${stage.name}.${counter}`).toBe(stage[counter]);
      }
      expect(histogramCount(metrics.get("sluice.call.duration"), "sluice.stage", stage.name)).toBe(stage.taken + stage.retried);
    }
    // Concrete figures, so that the comparison above cannot pass on two zeros.
    expect(stages[0]).toMatchObject({ taken: 20, done: 19, skipped: 1, retried: 5 });
    expect(stages[1]).toMatchObject({ taken: 19, emitted: 10, dropped: 9 });
    expect(metrics.get("sluice.source.pulled")!.dataPoints[0]!.value).toBe(20);
    expect(metrics.get("sluice.delivered")!.dataPoints[0]!.value).toBe(final!.delivered);
    expect(pointValue(metrics.get("sluice.runs"), "sluice.state", "done")).toBe(1);
    expect(histogramCount(metrics.get("sluice.call.duration"), "sluice.outcome", "error")).toBe(6);
  });

  it("a long run is counted as it goes, and never twice", async () => {
    const { meter, collect } = freshMeter();
    const telemetry = otelTelemetry({ tracer, meter });
    let midway = -1;
    await pipe(range(30))
      .map(async (x) => {
        await sleep(2);
        if (x === 20) midway = pointValue((await collect()).get("sluice.stage.done"), "sluice.stage", "slow");
        return x;
      }, { name: "slow", workers: 1 })
      .run({ telemetry, progressInterval: 5 });
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(30);
    expect(pointValue((await collect()).get("sluice.stage.done"), "sluice.stage", "slow")).toBe(30);
  });
});

describe("the telemetry run option", () => {
  it("is checked like the other run options", async () => {
    const notTelemetry = { runStarted: () => 1 } as never;
    await expect(pipe([1]).toArray({ telemetry: notTelemetry })).rejects.toThrow(
      /^toArray\(\): options\.telemetry must be an object with the methods runStarted, callStarted, within, callEnded, batchEmitted, runEnded/,
    );
    expect(() => pipe([1]).iterate({ telemetry: 5 as never })).toThrow(OptionsError);
    await expect(pipe([1]).run({ telemetry: { ...otelTelemetry(), progress: 1 } as never })).rejects.toThrow(/options\.telemetry must be/);
  });

  it("a telemetry that throws fails the run with its error, as onProgress does", async () => {
    const broken = new Error("exporter down");
    const telemetry = otelTelemetry({ tracer });
    const throwing = { ...bind(telemetry), runEnded: () => { throw broken; } };
    await expect(pipe([1, 2]).map((x) => x).toArray({ telemetry: throwing })).rejects.toBe(broken);
  });
});

/** `telemetry`'s methods bound to it, as own properties (so a spread keeps them working). */
function bind(telemetry: Telemetry): Telemetry {
  const methods = ["runStarted", "elementParent", "callStarted", "within", "callEnded", "batchEmitted", "progress", "runEnded"] as const;
  return Object.fromEntries(methods.map((name) => [name, (telemetry[name] as (...args: unknown[]) => unknown).bind(telemetry)])) as unknown as Telemetry;
}
