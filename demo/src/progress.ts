// A progress display for any sluice run, fed by its onProgress: one bar per stage on a
// terminal (cli-progress), one plain line per stage every second otherwise (CI logs, files).
// Self-contained on purpose: copy this file into a project that has cli-progress.
import cliProgress from "cli-progress";
import type { RunStats, StageStats } from "@sluice/dsl";

/** A live view of a run: pass `onProgress` to the run, call `stop()` when the run has settled. */
export interface StageBars {
  /** Give this to the run: `pipeline.run({ onProgress: bars.onProgress })`. */
  readonly onProgress: (stats: RunStats) => void;
  /** Draws the final figures (once more, as plain lines without a terminal) and releases the terminal. */
  stop(): void;
  /** The latest snapshot received, the final one after the run settled; `undefined` before the first. */
  readonly last: RunStats | undefined;
}

/** How {@link stageBars} draws. */
export interface StageBarsOptions {
  /** Printed before each stage's name. */
  readonly label: string;
  /** How many elements the source has, when `RunStats` cannot know it (a generator). */
  readonly total?: number;
  /** Where to draw; a terminal gets bars, anything else plain lines. Default: stdout. */
  readonly stream?: NodeJS.WriteStream;
  /** Milliseconds between two blocks of plain lines. Default 1000. */
  readonly plainEveryMs?: number;
  /** Show each stage's current `limit` of calls in flight: for stages with `workers: "auto"`, where it moves. Default false. */
  readonly showLimit?: boolean;
}

/** One stage's line: how far it is, against how many it should see. */
interface StageLine {
  readonly name: string;
  /** Elements finished one way or another. */
  readonly settled: number;
  /** Elements the stage should see in all, when known (or estimated). */
  readonly expected: number | undefined;
  readonly inFlight: number;
  /** Calls the stage allows in flight now (its `workers`, or the limit `"auto"` has found). */
  readonly limit: number;
  readonly waiting: number;
  /** Settled elements per second so far. */
  readonly rate: number;
  /** Seconds left at that rate, when the total is known. */
  readonly eta: number | undefined;
}

/**
 * The figures each line shows. The first stage expects the source's total; each later one
 * expects what the one before will emit, estimated from its outputs per element so far
 * (exact once that stage is through), so a filter's bar after it still ends at 100%.
 */
export function stageLines(stats: RunStats, total: number | undefined): StageLine[] {
  const seconds = Math.max(stats.elapsedMs / 1000, 0.001);
  let expected = stats.source.total ?? total;
  return stats.stages.map((stage: StageStats) => {
    const settled = stage.done + stage.skipped + stage.failed + stage.cancelled;
    const rate = settled / seconds;
    const line: StageLine = {
      name: stage.name,
      settled,
      expected,
      inFlight: stage.inFlight,
      limit: stage.limit,
      waiting: stage.waiting,
      rate,
      eta: expected === undefined || rate === 0 ? undefined : Math.max(expected - settled, 0) / rate,
    };
    if (expected !== undefined && settled > 0) expected = Math.round((expected * stage.emitted) / settled);
    return line;
  });
}

/** `fetch: 120/1000 (12%)  in flight 8  waiting 8  95/s  ETA 9 s`, with `  limit 8` after the calls in flight when `showLimit`. */
export function formatLine(label: string, line: StageLine, showLimit = false): string {
  const of = line.expected === undefined ? `${line.settled}` : `${line.settled}/${line.expected} (${percent(line)}%)`;
  const limit = showLimit ? `  limit ${line.limit}` : "";
  const eta = line.eta === undefined ? "" : `  ETA ${Math.ceil(line.eta)} s`;
  return `${label} ${line.name}: ${of}  in flight ${line.inFlight}${limit}  waiting ${line.waiting}  ${line.rate.toFixed(0)}/s${eta}`;
}

function percent(line: StageLine): number {
  return line.expected === undefined || line.expected === 0 ? 100 : Math.min(100, Math.floor((100 * line.settled) / line.expected));
}

/** A progress display for one run: bars on a terminal, plain lines elsewhere. */
export function stageBars(options: StageBarsOptions): StageBars {
  const stream = options.stream ?? process.stdout;
  return stream.isTTY ? terminalBars(options, stream) : plainLines(options, stream);
}

function terminalBars({ label, total, showLimit = false }: StageBarsOptions, stream: NodeJS.WriteStream): StageBars {
  const multi = new cliProgress.MultiBar(
    {
      // Short enough for an 80-column terminal, where cli-progress cuts longer lines.
      format: `{label} {bar} {value}/{expected} in flight {inFlight}${showLimit ? " limit {limit}" : ""} waiting {waiting} {rate}/s ETA {eta}`,
      stream,
      hideCursor: true,
      barsize: 10,
      fps: 10,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars: cliProgress.SingleBar[] = [];
  let last: RunStats | undefined;
  const draw = (stats: RunStats): void => {
    const lines = stageLines(stats, total);
    const width = Math.max(...lines.map((line) => line.name.length));
    lines.forEach((line, i) => {
      const payload = {
        label: `${label} ${line.name.padEnd(width)}`,
        expected: line.expected ?? "?",
        inFlight: line.inFlight,
        limit: line.limit,
        waiting: line.waiting,
        rate: line.rate.toFixed(0),
        eta: line.eta === undefined ? "?" : `${Math.ceil(line.eta)} s`,
      };
      const max = Math.max(line.expected ?? line.settled, 1);
      const bar = (bars[i] ??= multi.create(max, 0, payload));
      bar.setTotal(max);
      bar.update(line.settled, payload);
    });
  };
  return {
    onProgress(stats) {
      last = stats;
      draw(stats);
    },
    stop() {
      if (last !== undefined) draw(last);
      multi.stop();
    },
    get last() {
      return last;
    },
  };
}

function plainLines({ label, total, plainEveryMs = 1000, showLimit = false }: StageBarsOptions, stream: NodeJS.WriteStream): StageBars {
  let last: RunStats | undefined;
  let printedAt = 0;
  const print = (stats: RunStats): void => {
    for (const line of stageLines(stats, total)) stream.write(`${formatLine(label, line, showLimit)}\n`);
  };
  return {
    onProgress(stats) {
      last = stats;
      if (stats.elapsedMs - printedAt < plainEveryMs) return;
      printedAt = stats.elapsedMs;
      print(stats);
    },
    stop() {
      if (last !== undefined) print(last);
    },
    get last() {
      return last;
    },
  };
}
