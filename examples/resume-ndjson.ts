// Processing a large NDJSON file so that a crash loses nothing: the source reads the file by
// byte offsets, each line's `position` is the offset just after it, and the checkpoint saves
// the watermark (every line before it is done) to a small state file. A restart, even after
// SIGKILL, reads the state file and resumes the file at that offset: no line is missed, and
// the lines done twice are at most those that were past the watermark when the process died.
// SIGTERM drains instead: nothing more is read, the lines read are finished, and the last
// checkpoint stands on the last of them.
// Run: npx -y pnpm@10 examples && node examples/dist/resume-ndjson.js [file.ndjson state-dir]
import { createReadStream, closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { source } from "@sluice/dsl";

/** One line of the file, with the byte offset just after it. */
interface Line {
  readonly text: string;
  readonly end: number;
}

interface Reading {
  readonly id: number;
  readonly celsius: number;
}

const WORKERS = 16;
const BATCH = 50;
/** Save the watermark once this many lines have settled since the last save. */
export const EVERY = 500;
/**
 * How many lines can be past the watermark at a crash besides those of one checkpoint
 * interval: the pull bound of docs/behaviour.md §4 for this pipeline (the map's workers and
 * queue, a batch filling, one waiting and one being written, counted in lines), with room
 * for the batch that settles at once.
 */
export const IN_FLIGHT_BOUND = 2 * WORKERS + 4 * BATCH + 4;

/** Yields the lines of `path` from byte `start` on, each with the offset just after it. */
async function* linesFrom(path: string, start: number): AsyncGenerator<Line> {
  let offset = start;
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { start })) {
    const data = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    let from = 0;
    for (let newline = data.indexOf(10); newline !== -1; newline = data.indexOf(10, from)) {
      offset += newline + 1 - from;
      const text = data.toString("utf8", from, newline);
      from = newline + 1;
      if (text.trim() !== "") yield { text, end: offset };
    }
    rest = data.subarray(from);
  }
  if (rest.length > 0) yield { text: rest.toString("utf8"), end: offset + rest.length };
}

/** The saved offset, or 0 for a first run. */
function savedOffset(stateFile: string): number {
  try {
    return (JSON.parse(readFileSync(stateFile, "utf8")) as { offset: number }).offset;
  } catch {
    return 0;
  }
}

/**
 * Processes `path` from its last checkpoint in `stateDir`: each reading is converted and its
 * id appended to `stateDir/processed.txt` (the work a real job would do: a database write).
 * Returns the offset it started from and the lines it processed.
 */
export async function processFile(
  path: string,
  stateDir: string,
  options: { signal?: AbortSignal; drain?: AbortSignal } = {},
): Promise<{ startedAt: number; lines: number }> {
  const stateFile = join(stateDir, "checkpoint.json");
  const startedAt = savedOffset(stateFile);
  const out = openSync(join(stateDir, "processed.txt"), "a");
  let lines = 0;
  try {
    await source(() => linesFrom(path, startedAt), {
      position: (line) => line.end,
      checkpoint: {
        // Written whole then renamed, so a crash leaves the old checkpoint or the new one.
        // Synchronous: it is tiny, and no line settles while it is written.
        save: ({ position }) => {
          writeFileSync(`${stateFile}.tmp`, JSON.stringify({ offset: position }));
          renameSync(`${stateFile}.tmp`, stateFile);
        },
        every: EVERY,
      },
    })
      .map(
        async (line) => {
          const reading = JSON.parse(line.text) as Reading;
          await new Promise((resolve) => setTimeout(resolve, 1)); // stands in for a lookup
          return { id: reading.id, fahrenheit: reading.celsius * 1.8 + 32 };
        },
        { workers: WORKERS, maxsize: WORKERS },
      )
      .batch(BATCH, { maxWait: 20 })
      .each(
        (batch) => {
          writeSync(out, batch.map((row) => `${row.id}\n`).join(""));
          lines += batch.length;
        },
        { maxsize: 1 },
      )
      .run(options);
  } finally {
    closeSync(out);
  }
  return { startedAt, lines };
}

/** Writes `count` readings, one JSON object a line. */
export async function writeReadings(path: string, count: number): Promise<void> {
  const rows: string[] = [];
  for (let id = 0; id < count; id++) rows.push(JSON.stringify({ id, celsius: (id % 40) - 5 }));
  await writeFile(path, `${rows.join("\n")}\n`);
}

/**
 * A crash in one process: the first run is torn down (an abort, as close to a kill as a
 * process can do to itself) part way; the second resumes from the checkpoint. Returns how
 * many lines were processed in all, how many distinct ids, and how many twice.
 */
export async function main(log: (line: string) => void = console.log): Promise<{ processed: number; distinct: number; repeated: number; resumedAt: number }> {
  const dir = await mkdtemp(join(tmpdir(), "sluice-resume-"));
  try {
    const file = join(dir, "readings.ndjson");
    await writeReadings(file, 3_000);
    const crash = new AbortController();
    const watch = setInterval(() => {
      if (readFileSync(join(dir, "processed.txt"), "utf8").length > 6_000) crash.abort(new Error("crash"));
    }, 5);
    await processFile(file, dir, { signal: crash.signal }).catch((error: unknown) => {
      if (error !== crash.signal.reason) throw error;
    });
    clearInterval(watch);
    const { startedAt: resumedAt } = await processFile(file, dir);
    const ids = readFileSync(join(dir, "processed.txt"), "utf8").trim().split("\n");
    const distinct = new Set(ids).size;
    log(`resumed at byte ${resumedAt}: ${ids.length} lines processed, ${distinct} distinct, ${ids.length - distinct} twice`);
    return { processed: ids.length, distinct, repeated: ids.length - distinct, resumedAt };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, stateDir] = process.argv.slice(2);
  if (file === undefined || stateDir === undefined) {
    await main();
  } else {
    // SIGTERM drains: what was read is finished and checkpointed; Ctrl-C aborts.
    const drain = new AbortController();
    const abort = new AbortController();
    process.once("SIGTERM", () => drain.abort());
    process.once("SIGINT", () => abort.abort());
    const { startedAt, lines } = await processFile(file, stateDir, { drain: drain.signal, signal: abort.signal });
    console.log(`started at byte ${startedAt}, processed ${lines} lines`);
  }
}
