import type { Outcomes } from "./fetch-pipeline.js";

/** How one run of the fetch job went. */
export interface RunReport {
  /** Records the run was asked to fetch. */
  readonly total: number;
  /** What happened to the records, from the run's final stats. */
  readonly outcomes: Outcomes;
  /** Records the consumer received that a retry had fetched (their `attempt` was 2 or more). */
  readonly recovered: number;
  readonly elapsedMs: number;
  /** Whether the consumer received the records in id order. */
  readonly inOrder: boolean;
  /** Whether Ctrl-C ended the run early. */
  readonly interrupted: boolean;
  /** Whether SIGTERM drained the run: nothing more was requested, and what was requested finished. */
  readonly drained: boolean;
  /** Requests the API refused with a 429 during the run (it was past its capacity). */
  readonly refused: number;
  /** The fetch stage's limit of requests in flight at each progress snapshot (every 200 ms). */
  readonly limits: readonly number[];
}

/** What the summary reports on. */
export interface SummaryInput {
  readonly workers: number;
  readonly timeoutMs: number;
  readonly retries: number;
  /** Requests the API serves at once before it refuses with a 429. */
  readonly capacity: number;
  readonly concurrent: RunReport;
  /** The same job with `workers: "auto"`; `undefined` when it did not run. */
  readonly adaptive: RunReport | undefined;
  /** The same job, one request at a time, on a sample; `undefined` when it did not run. */
  readonly sequential: RunReport | undefined;
  /** Whether Ctrl-C stopped the demo. */
  readonly interrupted: boolean;
  /** Whether SIGTERM drained the demo. */
  readonly drained: boolean;
}

const perSecond = (report: RunReport) => report.outcomes.settled / Math.max(report.elapsedMs / 1000, 0.001);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * How a limit moved, from its samples: up to `points` of them evenly spread, first and last
 * included (`4 → 9 → 15 → 21`), and their mean, which is time-weighted since the samples are
 * evenly spaced in time.
 */
export function limitHistory(limits: readonly number[], points = 8): { readonly path: string; readonly mean: number } {
  if (limits.length === 0) return { path: "-", mean: 0 };
  const n = Math.min(points, limits.length);
  const picked = Array.from({ length: n }, (_, i) => limits[n === 1 ? 0 : Math.round((i * (limits.length - 1)) / (n - 1))]!);
  return { path: picked.join(" → "), mean: limits.reduce((sum, limit) => sum + limit, 0) / limits.length };
}

/** The summary block printed at the end of the demo, Ctrl-C or not. */
export function formatSummary({ workers, timeoutMs, retries, capacity, concurrent, adaptive, sequential, interrupted, drained }: SummaryInput): string {
  const { outcomes } = concurrent;
  const row = (name: string, value: string | number, note = "") =>
    `  ${name.padEnd(11)} ${String(value).padStart(7)}${note === "" ? "" : `  ${note}`}`;
  const lines = [
    interrupted
      ? "Summary (Ctrl-C: the run was aborted through its AbortSignal and shut down cleanly)"
      : drained
        ? "Summary (SIGTERM: the run was drained: no record was requested after it, and every record requested was finished)"
        : "Summary",
    row(
      "records",
      concurrent.total,
      concurrent.interrupted
        ? `${concurrent.total - outcomes.settled} cancelled or never requested`
        : concurrent.drained
          ? `${concurrent.total - outcomes.settled} never requested`
          : "",
    ),
    row("done", outcomes.done, `${outcomes.delivered} delivered ${concurrent.inOrder ? "in id order" : "OUT OF ORDER"}`),
    row("recovered", concurrent.recovered, `fetched by a retry after an HTTP 503 or 429 (${outcomes.retries} retries in all)`),
    row("failed", outcomes.failed, `HTTP 500 (or 429) on all ${retries + 1} attempts: dropped by onError "skip", the run went on`),
    row("timed out", outcomes.timedOut, `no answer within ${timeoutMs} ms: dropped by onTimeout "skip"`),
    row("elapsed", seconds(concurrent.elapsedMs), `${workers} worker${workers === 1 ? "" : "s"}`),
    row("throughput", perSecond(concurrent).toFixed(1), "records/s"),
    row("429s", concurrent.refused, `requests refused by the API, which serves ${capacity} at once`),
  ];
  if (adaptive !== undefined) {
    const { path, mean } = limitHistory(adaptive.limits);
    const done = `${adaptive.outcomes.done} done, ${adaptive.outcomes.failed} failed, ${adaptive.refused} 429s, ${seconds(adaptive.elapsedMs)}`;
    lines.push(row("auto", perSecond(adaptive).toFixed(1), `records/s with workers: "auto" (${done})`));
    lines.push(row("auto limit", mean.toFixed(1), `time-weighted; over time: ${path}`));
  }
  if (sequential === undefined) {
    lines.push(row("speed-up", "-", `not measured: ${drained ? "SIGTERM" : "Ctrl-C"} stopped the demo before the sequential run had 5 records`));
  } else {
    const sample = `${sequential.outcomes.settled}-record sample, one request at a time, ${seconds(sequential.elapsedMs)}`;
    lines.push(row("sequential", perSecond(sequential).toFixed(1), `records/s (${sample})`));
    lines.push(row("speed-up", `${(perSecond(concurrent) / perSecond(sequential)).toFixed(1)}x`, "over the sequential run"));
  }
  return lines.join("\n");
}
