/**
 * `--sweep`: throughput and memory against `maxsize`, for several `workers`, to choose the
 * default `maxsize` from evidence. Three workloads per (workers, maxsize):
 *
 * - overhead: scenario A's three trivial async stages (the cost of pausing and resuming
 *   producers when buffers are small);
 * - jitter: two stages whose calls are timers of seeded random, exponentially distributed
 *   length (mean 2 ms: most calls short, a few long), the case buffers between stages are
 *   for: they absorb uneven latency so neither stage starves or blocks the other;
 * - held: a slow consumer of an infinite source through two stages; how many elements the
 *   pipeline had pulled ahead of the consumer (what the buffers cost in memory: multiply by
 *   the size of an element).
 *
 * Throughput is against the unbounded pipeline (`maxsize: 0`), measured in the same rounds.
 */
import { defaultMaxsize, pipe } from "@sluice/dsl";
import { delay, nextMacrotask, range, seededRandom } from "./common.js";
import { median, minOf, maxOf, scaled, table, type Mode } from "./harness.js";
import { performance } from "node:perf_hooks";

const WORKER_COUNTS = [1, 4, 16, 64] as const;
/** maxsize as a multiple of workers; absolute small values are added per row. */
const FACTORS = [0.5, 1, 2, 4, 8] as const;
const ABSOLUTE = [1, 4, 16, 64] as const;
const UNBOUNDED = 0;
const JITTER_MEAN_MS = 2;

const double = async (x: number): Promise<number> => x * 2;
const notMultipleOf3 = async (x: number): Promise<boolean> => x % 3 !== 0;
const addOne = async (x: number): Promise<number> => x + 1;

interface Cell {
  readonly maxsize: number;
  overhead: number[];
  jitter: number[];
  held: number;
}

interface Row {
  readonly workers: number;
  readonly cells: Cell[];
}

function maxsizesFor(workers: number): number[] {
  const set = new Set<number>([UNBOUNDED, defaultMaxsize(workers)]);
  for (const f of FACTORS) set.add(Math.max(1, Math.round(f * workers)));
  for (const a of ABSOLUTE) if (a <= 8 * workers) set.add(a);
  return [...set].sort((a, b) => (a === UNBOUNDED ? 1 : b === UNBOUNDED ? -1 : a - b));
}

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export async function runSweep(mode: Mode, log: (line: string) => void): Promise<string> {
  const overheadN = scaled(mode, 200_000, 500);
  const heldK = scaled(mode, 5_000, 200);
  const rounds = mode.name === "full" ? 9 : mode.name === "quick" ? 5 : 1;
  const random = seededRandom(7);
  const rows: Row[] = [];

  for (const workers of WORKER_COUNTS) {
    const data = range(overheadN);
    const jitterN = scaled(mode, Math.min(4_000, 100 * workers), 50);
    const jitterData = range(jitterN);
    const exponential = () => Math.floor(-Math.log(1 - random()) * JITTER_MEAN_MS);
    const d1 = jitterData.map(exponential);
    const d2 = jitterData.map(exponential);
    const cells: Cell[] = maxsizesFor(workers).map((maxsize) => ({ maxsize, overhead: [], jitter: [], held: 0 }));
    const overhead = (maxsize: number) =>
      pipe(data)
        .map(double, { workers, maxsize })
        .filter(notMultipleOf3, { workers, maxsize })
        .map(addOne, { workers, maxsize })
        .run();
    const jitter = (maxsize: number) =>
      pipe(jitterData)
        .map((x) => delay(d1[x]!, x), { workers, maxsize })
        .map((x) => delay(d2[x]!, x), { workers, maxsize })
        .run();

    for (const cell of cells) await overhead(cell.maxsize); // warm-up
    const unbounded = cells.find((c) => c.maxsize === UNBOUNDED)!;
    for (let r = 0; r < rounds; r++) {
      const times = new Map<Cell, { o: number; j: number }>();
      for (let i = 0; i < cells.length; i++) {
        const cell = cells[(r + i) % cells.length]!;
        times.set(cell, { o: await timeIt(() => overhead(cell.maxsize)), j: await timeIt(() => jitter(cell.maxsize)) });
      }
      const base = times.get(unbounded)!;
      for (const [cell, t] of times) {
        cell.overhead.push(base.o / t.o);
        cell.jitter.push(base.j / t.j);
      }
    }
    for (const cell of cells) {
      if (cell.maxsize !== UNBOUNDED) cell.held = await heldAhead(workers, cell.maxsize, heldK);
    }
    rows.push({ workers, cells });
    log(`  sweep workers=${workers} done`);
  }
  return formatSweep(rows, { overheadN, heldK, rounds });
}

/** Elements pulled from an infinite source but not yet taken by a slow consumer, through two stages. */
async function heldAhead(workers: number, maxsize: number, k: number): Promise<number> {
  let pulls = 0;
  async function* infinite(): AsyncGenerator<number> {
    for (;;) yield pulls++;
  }
  let taken = 0;
  let ahead = 0;
  const pipeline = pipe(infinite).map(addOne, { workers, maxsize }).map(double, { workers, maxsize });
  for await (const _ of pipeline) {
    taken++;
    if (taken >= k) {
      ahead = pulls - taken;
      break;
    }
    await nextMacrotask();
  }
  return ahead;
}

function fmt(values: readonly number[]): string {
  if (values.length === 0) return "–";
  if (values.length === 1) return values[0]!.toFixed(2);
  return `${median(values).toFixed(2)} (${minOf(values).toFixed(2)}–${maxOf(values).toFixed(2)})`;
}

function formatSweep(rows: Row[], info: { overheadN: number; heldK: number; rounds: number }): string {
  const body: string[][] = [];
  for (const row of rows) {
    for (const cell of row.cells) {
      const label =
        cell.maxsize === UNBOUNDED ? "0 (unbounded)" : `${cell.maxsize}${cell.maxsize === defaultMaxsize(row.workers) ? " (current default)" : ""}`;
      const ratio = cell.maxsize === UNBOUNDED ? "–" : `${(cell.maxsize / row.workers).toFixed(cell.maxsize < row.workers ? 2 : 1)}`;
      body.push([
        String(row.workers),
        label,
        ratio,
        fmt(cell.overhead),
        fmt(cell.jitter),
        cell.maxsize === UNBOUNDED ? "everything" : cell.held.toLocaleString("en-US"),
      ]);
    }
  }
  // Candidate default rules, read off the grid (every rule lands on a measured cell).
  const rules: [string, (w: number) => number][] = [
    ["workers", (w) => w],
    ["2 x workers", (w) => 2 * w],
    ["max(8, workers)", (w) => Math.max(8, w)],
    ["max(16, workers)", (w) => Math.max(16, w)],
    ["max(16, 2 x workers)", (w) => Math.max(16, 2 * w)],
    ["max(16, 4 x workers)", (w) => Math.max(16, 4 * w)],
  ];
  const ruleRows = rules.map(([name, rule]) => {
    const cells = rows.map((row) => row.cells.find((c) => c.maxsize === rule(row.workers)));
    const jitter = cells.map((c) => (c === undefined ? Number.NaN : median(c.jitter)));
    const current = rows.every((row) => rule(row.workers) === defaultMaxsize(row.workers));
    return [
      current ? `${name} (current default)` : name,
      rows.map((row) => String(rule(row.workers))).join(" / "),
      jitter.map((j) => j.toFixed(2)).join(" / "),
      minOf(jitter).toFixed(2),
      cells.map((c) => (c === undefined ? "?" : c.held.toLocaleString("en-US"))).join(" / "),
    ];
  });
  return [
    "### maxsize sweep",
    "",
    `Throughput is the unbounded pipeline's time / this maxsize's time, median (min–max) of ${info.rounds} interleaved rounds (1.00 = as fast as unbounded). overhead: ${info.overheadN.toLocaleString("en-US")} integers through scenario A's three trivial async stages; jitter: two stages of seeded random timers, exponentially distributed with mean ${JITTER_MEAN_MS} ms (100 x workers elements, at most 4,000); held: elements pulled from an infinite source but not yet taken, when a slow consumer (a \`setImmediate\` per element) has taken ${info.heldK.toLocaleString("en-US")} through two stages.`,
    "",
    table(["workers", "maxsize", "maxsize / workers", "overhead throughput", "jitter throughput", "held ahead of consumer"], body),
    "",
    `Candidate defaults, read off the grid (values for workers ${rows.map((r) => r.workers).join(" / ")}):`,
    "",
    table(["rule", "maxsize", "jitter throughput (median)", "worst row", "held ahead of consumer"], ruleRows),
  ].join("\n");
}
