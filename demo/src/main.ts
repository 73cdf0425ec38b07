// `pnpm start`: fetch records from a slow, flaky local API through a sluice pipeline, with
// live progress and a summary that compares it with the same job done sequentially.
import { fetchRecords, outcomesOf } from "./fetch-pipeline.js";
import { DEFAULT_CAPACITY, startFlakyServer, type FlakyServer } from "./flaky-server.js";
import { parseFlags, USAGE, UsageError } from "./flags.js";
import type { RunStats } from "@sluice/dsl";
import { stageBars, type StageBars } from "./progress.js";
import { formatSummary, type RunReport } from "./summary.js";

const TIMEOUT_MS = 1000;
const RETRIES = 2;
const SEQUENTIAL_SAMPLE = 40;
const EXIT_USAGE = 2;
const EXIT_FORCED = 130; // 128 + SIGINT, as shells report it: only for a second Ctrl-C

/** The abort reason for Ctrl-C: the pipeline's consumer receives this very object. */
class Interrupted extends Error {
  override readonly name = "Interrupted";
}

function* idsFrom1(count: number): Generator<number> {
  for (let id = 1; id <= count; id++) yield id;
}

/** `size` ids spread evenly over 1..count, so the sample meets the same mix of fast, slow and failing records. */
function sampleIds(count: number, size: number): number[] {
  const n = Math.min(count, size);
  return Array.from({ length: n }, (_, i) => 1 + Math.floor(((i + 0.5) * count) / n));
}

let progress: StageBars | undefined;

/** Runs the fetch job over `ids` with a progress display; Ctrl-C (`signal`) ends it early, SIGTERM (`drain`) drains it. */
async function runJob(
  label: string,
  ids: Iterable<number>,
  total: number,
  workers: number | "auto",
  server: FlakyServer,
  signal: AbortSignal,
  drain: AbortSignal,
): Promise<RunReport> {
  const started = performance.now();
  const refusedBefore = server.refused();
  let lastId = 0;
  let inOrder = true;
  let recovered = 0;
  let interrupted = false;
  const limits: number[] = [];
  // A generator does not say how many ids it holds: the display is told.
  const bars = (progress = stageBars({ label, total, showLimit: workers === "auto" }));
  // The fetch stage's limit at every snapshot (every 200 ms): how "auto" moved.
  const onProgress = (stats: RunStats) => {
    limits.push(stats.stages[0]!.limit);
    bars.onProgress(stats);
  };
  try {
    const records = fetchRecords(ids, { baseUrl: server.url, workers, timeoutMs: TIMEOUT_MS, retries: RETRIES });
    for await (const { record, attempt } of records.iterate({ signal, drain, onProgress })) {
      // The consumer: a real job would store the record; the demo checks the order ordered()
      // promises, and notes which records a retry saved.
      if (record.id <= lastId) inOrder = false;
      lastId = record.id;
      if (attempt > 1) recovered++;
    }
  } catch (error) {
    if (error !== signal.reason) throw error; // the abort reason arrives as the same object
    interrupted = true;
  } finally {
    bars.stop();
    progress = undefined;
  }
  // The final snapshot, which the run reported before the loop ended.
  const drained = !interrupted && drain.aborted;
  return {
    total,
    outcomes: outcomesOf(bars.last),
    recovered,
    elapsedMs: performance.now() - started,
    inOrder,
    interrupted,
    drained,
    refused: server.refused() - refusedBefore,
    limits,
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`sluice demo: ${error.message}\nRun it with --help to see the options.\n`);
    return EXIT_USAGE;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { count, workers } = flags;

  // The first Ctrl-C aborts the run through this signal: the demo then ends as usual, with
  // its summary and exit status 0 (stopping early is a way to use it). A second one exits at once.
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      progress?.stop();
      process.exit(EXIT_FORCED);
    }
    controller.abort(new Interrupted("Ctrl-C"));
  };
  process.on("SIGINT", onSigint);
  // SIGTERM (what a service manager sends to stop a service) drains instead: no new record is
  // requested, the ones requested are finished and delivered, and the demo ends with its summary.
  const drainer = new AbortController();
  const onSigterm = () => drainer.abort();
  process.on("SIGTERM", onSigterm);
  // Output piped into a command that quits early (`| head`): stop the run the same way. The
  // listener stays to the end, since writes already queued report their EPIPE later.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    controller.abort(new Interrupted("stdout closed"));
  };
  process.stdout.on("error", onStdoutError);

  const server = await startFlakyServer();
  try {
    console.log(`sluice demo: fetching ${count} records from a slow, flaky API at ${server.url}`);
    console.log(
      `  latency has a long tail; 2% of records fail once with 503, 2% always with 500, 1% never answer; Ctrl-C stops cleanly, SIGTERM drains`,
    );
    console.log(`  it serves ${DEFAULT_CAPACITY} requests at once, slower as it fills, and refuses more with 429 Too Many Requests`);
    console.log(
      `  pipe(ids).map(fetchRecord, { workers: ${workers}, maxsize: ${workers}, timeout: ${TIMEOUT_MS}, onTimeout: "skip",\n` +
        `    retry: { retries: ${RETRIES}, minDelay: 100, shouldRetry }, onError: "skip" }).ordered()\n`,
    );
    const concurrent = await runJob("sluice", idsFrom1(count), count, workers, server, controller.signal, drainer.signal);

    let adaptive: RunReport | undefined;
    if (!concurrent.interrupted && !concurrent.drained) {
      console.log(`\nThe same job with workers: "auto": the limit starts at 4 and finds how many requests the API takes:`);
      adaptive = await runJob("auto", idsFrom1(count), count, "auto", server, controller.signal, drainer.signal);
      if ((adaptive.interrupted || adaptive.drained) && adaptive.outcomes.settled < 5) adaptive = undefined;
    }

    let sequential: RunReport | undefined;
    if (!concurrent.interrupted && !concurrent.drained && adaptive?.interrupted !== true && adaptive?.drained !== true) {
      const sample = sampleIds(count, SEQUENTIAL_SAMPLE);
      console.log(`\nThe same job one request at a time (workers: 1), on ${sample.length} records spread over the ${count}:`);
      sequential = await runJob("sequential", sample, sample.length, 1, server, controller.signal, drainer.signal);
      // A partial baseline is still a measurement, if it is not too small to mean anything.
      if ((sequential.interrupted || sequential.drained) && sequential.outcomes.settled < 5) sequential = undefined;
    }

    const interrupted = controller.signal.aborted;
    const drained = !interrupted && drainer.signal.aborted;
    const capacity = DEFAULT_CAPACITY;
    console.log(
      `\n${formatSummary({ workers, timeoutMs: TIMEOUT_MS, retries: RETRIES, capacity, concurrent, adaptive, sequential, interrupted, drained })}`,
    );
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    await server.close();
  }
}

// No process.exit(): once the server is closed and the timers are cleared, Node exits by itself.
process.exitCode = await main(process.argv.slice(2));
