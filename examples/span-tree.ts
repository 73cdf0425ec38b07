// Trace a small run with OpenTelemetry and print its span tree: the run, a span per call of
// each stage (a retried element has one per attempt), the spans f opens nested under its
// call's, and each batch's span with a link per element. The exporter is a console exporter
// that prints the tree once the spans are in, instead of one object per span.
// Run: npx -y pnpm@10 examples && node examples/dist/span-tree.js
import { fileURLToPath } from "node:url";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { pipe } from "@sluice/dsl";
import { otelTelemetry } from "@sluice/otel";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A console exporter that keeps the spans and prints them as a tree on `shutdown()`. */
class TreeConsoleExporter implements SpanExporter {
  readonly #spans: ReadableSpan[] = [];

  constructor(readonly log: (line: string) => void) {}

  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.#spans.push(...spans);
    done({ code: 0 });
  }

  async shutdown(): Promise<void> {
    for (const line of treeLines(this.#spans)) this.log(line);
  }
}

/** The spans as indented lines, each under its parent, siblings in start order. */
export function treeLines(spans: readonly ReadableSpan[]): string[] {
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const started = (span: ReadableSpan) => span.startTime[0] * 1e9 + span.startTime[1];
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const below = [...(children.get(parent) ?? [])].sort((a, b) => started(a) - started(b) || a.name.localeCompare(b.name));
    for (const span of below) {
      lines.push(`${"  ".repeat(depth)}${describe(span)}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

function describe(span: ReadableSpan): string {
  const a = span.attributes;
  const parts = [span.name];
  if (a["sluice.index"] !== undefined) parts.push(`[${(a["sluice.index"] as number[]).join(".")}]`);
  if (a["sluice.attempt"] !== undefined) parts.push(`attempt ${String(a["sluice.attempt"])}`);
  const outcome = a["sluice.outcome"] ?? a["sluice.state"];
  if (outcome !== undefined) parts.push(String(outcome));
  if (span.status.message !== undefined) parts.push(`(${span.status.message})`);
  if (span.links.length > 0) parts.push(`${span.links.length} links`);
  return parts.join(" ");
}

export async function main(log: (line: string) => void = console.log): Promise<{ lines: string[] }> {
  const lines: string[] = [];
  const print = (line: string) => {
    lines.push(line);
    log(line);
  };
  // What an application's OpenTelemetry set-up does once: a context manager that follows
  // async calls, and a tracer provider with an exporter.
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new TreeConsoleExporter(print))] });
  const tracer = provider.getTracer("span-tree-example");

  let failedOnce = false;
  const fetchOrder = async (id: number) => {
    // A client's span, as an HTTP or database client makes one: it nests under the call's span.
    const span = tracer.startSpan(`GET /orders/${id}`);
    await sleep(2);
    span.end();
    if (id === 2 && !failedOnce) {
      failedOnce = true;
      throw new Error("503 from the order service");
    }
    return { id, total: id * 10 };
  };

  await pipe([1, 2, 3, 4])
    .map(fetchOrder, { name: "fetch", workers: 2, retry: { retries: 1, minDelay: 1 } })
    .batch(2)
    .each(async (orders) => sleep(orders.length), { name: "save" })
    .run({ telemetry: otelTelemetry({ tracer }) });

  await provider.shutdown();
  context.disable();
  return { lines };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
