// Export a run's counters as JSON lines, one snapshot a second and a last one with the final
// figures: the shape a log shipper or metrics agent ingests. onProgress does the timing; each
// line is a RunStats with a timestamp and the job's name, stages keyed by their names.
// Run: npx -y pnpm@10 examples && node examples/dist/metrics-exporter.js
import { fileURLToPath } from "node:url";
import { pipe, type RunStats, type StageStats } from "@sluice/dsl";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One exported line: when, which job, where the run stands, and every stage's counters by name. */
export interface MetricsLine {
  readonly time: string;
  readonly job: string;
  readonly state: RunStats["state"];
  readonly elapsedMs: number;
  readonly pulled: number;
  readonly total: number | null;
  readonly delivered: number;
  readonly stages: Record<string, Omit<StageStats, "name">>;
}

/** Turns a snapshot into one line of JSON (the stats are plain data: nothing to convert but the layout). */
export function toLine(job: string, stats: RunStats): string {
  const stages: Record<string, Omit<StageStats, "name">> = {};
  for (const { name, ...counters } of stats.stages) stages[name] = counters;
  const line: MetricsLine = {
    time: new Date().toISOString(),
    job,
    state: stats.state,
    elapsedMs: Math.round(stats.elapsedMs),
    pulled: stats.source.pulled,
    total: stats.source.total ?? null,
    delivered: stats.delivered,
    stages,
  };
  return JSON.stringify(line);
}

// The job: look 500 users up (5-25 ms each, 8 at a time), skip the ones without an email
// and store the rest two at a time. Every 7th lookup never answers and is dropped by its timeout.
function lookup(id: number, signal: AbortSignal): Promise<{ id: number; email: string | null }> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const answer = () => {
      signal.removeEventListener("abort", onAbort);
      resolve({ id, email: id % 10 === 3 ? null : `user${id}@example.com` });
    };
    const timer = id % 7 === 0 ? undefined : setTimeout(answer, 5 + ((id * 13) % 20));
  });
}

export async function main(
  log: (line: string) => void = console.log,
  everyMs = 1_000,
): Promise<{ lines: MetricsLine[]; stored: number }> {
  const ids = Array.from({ length: 500 }, (_, i) => i + 1);
  let stored = 0;
  const lines: MetricsLine[] = [];
  await pipe(ids)
    .map((id, { signal }) => lookup(id, signal), { name: "lookup", workers: 8, timeout: 100, onTimeout: "skip" })
    .filter((user) => user.email !== null, { name: "has-email" })
    .each(async () => void (await sleep(2), stored++), { name: "store", workers: 2 })
    .run({
      progressInterval: everyMs,
      onProgress: (stats) => {
        const line = toLine("import-users", stats);
        lines.push(JSON.parse(line) as MetricsLine);
        log(line);
      },
    });
  return { lines, stored };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
