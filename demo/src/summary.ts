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
}

/** What the summary reports on. */
export interface SummaryInput {
  readonly workers: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly concurrent: RunReport;
  /** The same job, one request at a time, on a sample; `undefined` when it did not run. */
  readonly sequential: RunReport | undefined;
  /** Whether Ctrl-C stopped the demo. */
  readonly interrupted: boolean;
  /** Whether SIGTERM drained the demo. */
  readonly drained: boolean;
}

const perSecond = (report: RunReport) => report.outcomes.settled / Math.max(report.elapsedMs / 1000, 0.001);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The summary block printed at the end of the demo, Ctrl-C or not. */
export function formatSummary({ workers, timeoutMs, retries, concurrent, sequential, interrupted, drained }: SummaryInput): string {
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
    row("recovered", concurrent.recovered, `fetched by a retry after an HTTP 503 (${outcomes.retries} retries in all)`),
    row("failed", outcomes.failed, `HTTP 500 on all ${retries + 1} attempts: dropped by onError "skip", the run went on`),
    row("timed out", outcomes.timedOut, `no answer within ${timeoutMs} ms: dropped by onTimeout "skip"`),
    row("elapsed", seconds(concurrent.elapsedMs), `${workers} worker${workers === 1 ? "" : "s"}`),
    row("throughput", perSecond(concurrent).toFixed(1), "records/s"),
  ];
  if (sequential === undefined) {
    lines.push(row("speed-up", "-", `not measured: ${drained ? "SIGTERM" : "Ctrl-C"} stopped the demo before the sequential run had 5 records`));
  } else {
    const sample = `${sequential.outcomes.settled}-record sample, one request at a time, ${seconds(sequential.elapsedMs)}`;
    lines.push(row("sequential", perSecond(sequential).toFixed(1), `records/s (${sample})`));
    lines.push(row("speed-up", `${(perSecond(concurrent) / perSecond(sequential)).toFixed(1)}x`, "over the sequential run"));
  }
  return lines.join("\n");
}
