/**
 * D. Memory: an infinite source, a slow consumer that takes 20,000 elements through two
 * stages. How many elements each system pulled from the source by then (sluice must stay
 * within the pull bound (docs/behaviour.md §4)) and how much the heap grew, with a forced GC at each sample.
 * `--full` adds a long sluice run in which 1,000,000 elements pass, for the heap target.
 */
import { Readable } from "node:stream";
import { defaultMaxsize, pipe } from "@sluice/dsl";
import { pMapIterable } from "p-map";
import { concatMap, from as rxFrom, lastValueFrom, mergeMap, take } from "rxjs";
import { from as ixFrom } from "ix/Ix.asynciterable";
import { flatMap as ixFlatMap } from "ix/Ix.asynciterable.operators";
import { nextMacrotask } from "./common.js";
import { forceGc, hasGc, median, scaled, table, type Mode } from "./harness.js";

const WORKERS = 4;
const STAGES = 2;

const inc = async (x: number): Promise<number> => x + 1;
const double = async (x: number): Promise<number> => x * 2;

/** An "infinite" async source that counts its pulls; it ends at `cap` only so a system that pulls everything cannot hang the bench. */
class CountingSource {
  pulls = 0;
  constructor(readonly cap: number) {}
  async *open(): AsyncGenerator<number> {
    while (this.pulls < this.cap) yield this.pulls++;
  }
}

/** The slow consumer's bookkeeping: a macrotask of "work" per element, and heap samples after a full GC. */
class Probe {
  taken = 0;
  baselineHeap = 0;
  endHeap = 0;
  pullsAtEnd = 0;

  constructor(
    readonly source: CountingSource,
    readonly k: number,
  ) {}

  /** Samples the heap before the run starts. */
  begin(): void {
    forceGc();
    this.baselineHeap = process.memoryUsage().heapUsed;
  }

  /** Takes one element; resolves after the consumer's slow work. Returns whether to stop. */
  async take(): Promise<boolean> {
    this.taken++;
    if (this.taken === this.k) {
      this.pullsAtEnd = this.source.pulls;
      forceGc();
      this.endHeap = process.memoryUsage().heapUsed;
      return true;
    }
    await nextMacrotask();
    return false;
  }
}

interface MemorySystem {
  readonly name: string;
  readonly note: string;
  /** the pull bound (docs/behaviour.md §4) on pulls after `k` elements were taken, for systems it applies to. */
  readonly bound?: (k: number) => number;
  readonly consume: (source: CountingSource, probe: Probe) => Promise<void>;
}

/** docs/behaviour.md §4: k + Σ(workers + maxsize) + maxsize_last + (number of stages), with default maxsize. */
export function specPullBound(k: number, workers: number, stages: number, maxsize = defaultMaxsize(workers)): number {
  return k + stages * (workers + maxsize) + maxsize + stages;
}

function systems(withIx: boolean): MemorySystem[] {
  const list: MemorySystem[] = [
    {
      name: "sluice",
      note: `\`pipe(source).map(f, { workers: ${WORKERS} }).map(g, { workers: ${WORKERS} })\`, default maxsize (${defaultMaxsize(WORKERS)}), \`for await\` with \`break\``,
      bound: (k) => specPullBound(k, WORKERS, STAGES),
      consume: async (source, probe) => {
        const pipeline = pipe(() => source.open())
          .map(inc, { workers: WORKERS })
          .map(double, { workers: WORKERS });
        for await (const _ of pipeline) if (await probe.take()) break;
      },
    },
    {
      name: "p-map pMapIterable",
      note: `two chained \`pMapIterable(..., { concurrency: ${WORKERS} })\`, \`for await\` with \`break\``,
      consume: async (source, probe) => {
        const chain = pMapIterable(pMapIterable(source.open(), inc, { concurrency: WORKERS }), double, { concurrency: WORKERS });
        for await (const _ of chain) if (await probe.take()) break;
      },
    },
    {
      name: "Node Readable.map",
      note: `\`Readable.from(source).map(f, { concurrency: ${WORKERS} }).map(g, ...)\`, \`for await\` with \`break\``,
      consume: async (source, probe) => {
        const stream = Readable.from(source.open()).map(inc, { concurrency: WORKERS }).map(double, { concurrency: WORKERS });
        for await (const _ of stream) if (await probe.take()) break;
      },
    },
    {
      name: "RxJS mergeMap",
      note: `\`from(source)\` through \`mergeMap(f, ${WORKERS})\` twice, the slow consumer as \`concatMap\`, then \`take(k)\``,
      consume: async (source, probe) => {
        await lastValueFrom(
          rxFrom(source.open()).pipe(
            mergeMap(inc, WORKERS),
            mergeMap(double, WORKERS),
            concatMap(async (x) => {
              await probe.take();
              return x;
            }),
            take(probe.k),
          ),
        );
      },
    },
  ];
  if (withIx) {
    list.push({
      name: "IxJS flatMap",
      note: `\`from(source)\` through \`flatMap(async (x) => [await f(x)], ${WORKERS})\` twice, \`for await\` with \`break\``,
      consume: async (source, probe) => {
        const chain = ixFrom(source.open()).pipe(
          ixFlatMap(async (x: number) => [await inc(x)], WORKERS),
          ixFlatMap(async (x: number) => [await double(x)], WORKERS),
        );
        for await (const _ of chain) if (await probe.take()) break;
      },
    });
  }
  return list;
}

export interface MemoryRow {
  readonly name: string;
  readonly note: string;
  readonly pulls: number;
  readonly bound: number | undefined;
  readonly cappedAt: number | undefined;
  readonly heapGrowthMb: number;
}

export interface MemoryResult {
  readonly k: number;
  readonly cap: number;
  readonly rows: MemoryRow[];
  readonly long: LongRunResult | undefined;
}

export async function runMemory(
  mode: Mode,
  options: { withIx: boolean; long: boolean; systems: readonly string[]; log: (line: string) => void },
): Promise<MemoryResult> {
  if (!hasGc()) throw new Error("scenario D needs node --expose-gc (pnpm bench passes it)");
  const k = scaled(mode, 20_000, 200);
  const cap = scaled(mode, 1_000_000, 20_000);
  const repeats = mode.name === "full" ? 3 : 1;
  const rows: MemoryRow[] = [];
  for (const system of systems(options.withIx)) {
    if (options.systems.length > 0 && !options.systems.some((s) => system.name.toLowerCase().includes(s.toLowerCase()))) continue;
    const pulls: number[] = [];
    const growth: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const source = new CountingSource(cap);
      const probe = new Probe(source, k);
      probe.begin();
      await system.consume(source, probe);
      if (probe.taken < k) throw new Error(`scenario D: ${system.name} delivered only ${probe.taken} of ${k} elements`);
      pulls.push(probe.pullsAtEnd);
      growth.push((probe.endHeap - probe.baselineHeap) / 1e6);
    }
    const maxPulls = Math.max(...pulls);
    rows.push({
      name: system.name,
      note: system.note,
      pulls: maxPulls,
      bound: system.bound?.(k),
      cappedAt: maxPulls >= cap ? cap : undefined,
      heapGrowthMb: median(growth),
    });
    options.log(`  D ${system.name} done`);
  }
  const long = options.long ? await runLong(options.log) : undefined;
  return { k, cap, rows, long };
}

export interface LongRunResult {
  readonly elements: number;
  readonly baselineAt: number;
  readonly samples: { taken: number; heapMb: number; pulls: number; bound: number }[];
  readonly growthMb: number;
  readonly maxGrowthMb: number;
  readonly boundHeld: boolean;
}

/** sluice alone: 1,000,000 elements pass the same two stages; the heap is sampled (after a GC) every 100,000. */
async function runLong(log: (line: string) => void): Promise<LongRunResult> {
  const elements = 1_000_000;
  const every = 100_000;
  const baselineAt = 10_000;
  const source = new CountingSource(Number.POSITIVE_INFINITY);
  const pipeline = pipe(() => source.open())
    .map(inc, { workers: WORKERS })
    .map(double, { workers: WORKERS });
  const samples: LongRunResult["samples"] = [];
  let taken = 0;
  for await (const _ of pipeline) {
    taken++;
    if (taken === baselineAt || taken % every === 0) {
      const pulls = source.pulls;
      forceGc();
      samples.push({ taken, heapMb: process.memoryUsage().heapUsed / 1e6, pulls, bound: specPullBound(taken, WORKERS, STAGES) });
      if (taken % every === 0) log(`  D long run: ${taken.toLocaleString("en-US")} elements`);
    }
    if (taken >= elements) break;
    // The slow consumer: a macrotask of "work" every 10 elements keeps a million elements to seconds.
    if (taken % 10 === 0) await nextMacrotask();
  }
  const base = samples[0]!.heapMb;
  const last = samples[samples.length - 1]!.heapMb;
  return {
    elements,
    baselineAt,
    samples,
    growthMb: last - base,
    maxGrowthMb: Math.max(...samples.map((s) => s.heapMb)) - base,
    boundHeld: samples.every((s) => s.pulls <= s.bound),
  };
}

export function formatMemory(result: MemoryResult): string {
  const { k, cap } = result;
  const rows = result.rows.map((r) => [
    r.name,
    r.cappedAt !== undefined ? `${r.pulls.toLocaleString("en-US")} (all, = cap)` : r.pulls.toLocaleString("en-US"),
    (r.pulls - k).toLocaleString("en-US"),
    r.bound === undefined ? "–" : `${r.bound.toLocaleString("en-US")} (${r.pulls <= r.bound ? "within" : "EXCEEDED"})`,
    `${r.heapGrowthMb >= 0 ? "+" : ""}${r.heapGrowthMb.toFixed(2)} MB`,
  ]);
  const lines = [
    "### D. memory",
    "",
    `An infinite async source (it stops at ${cap.toLocaleString("en-US")} only so a system that pulls everything cannot hang the bench), two async map stages with ${WORKERS} workers each, and a slow consumer (a \`setImmediate\` per element) that takes ${k.toLocaleString("en-US")} elements and stops. Pulls are counted when the consumer takes element ${k.toLocaleString("en-US")}; heap growth is \`heapUsed\` after a forced GC at that moment minus the same just before the run started (so it includes the pipeline's own small structures and whatever it buffered).`,
    "",
    table(["system", `pulls from source after ${k.toLocaleString("en-US")} taken`, "pulled ahead of the consumer", "pull bound", "heap growth"], rows),
  ];
  lines.push("");
  for (const r of result.rows) lines.push(`- ${r.name}: ${r.note}`);
  const long = result.long;
  if (long !== undefined) {
    lines.push(
      "",
      `Long run (sluice, the same two stages, a \`setImmediate\` every 10 elements): ${long.elements.toLocaleString("en-US")} elements passed; heap after a forced GC grew ${fmtMb(long.growthMb)} from element ${long.baselineAt.toLocaleString("en-US")} to the end (largest sample ${fmtMb(long.maxGrowthMb)} above the first); pulls ${long.boundHeld ? "stayed within" : "EXCEEDED"} the pull bound (docs/behaviour.md §4) at every sample.`,
      "",
      table(
        ["elements taken", "heap used after GC", "pulls", "bound"],
        long.samples.map((s) => [s.taken.toLocaleString("en-US"), `${s.heapMb.toFixed(2)} MB`, s.pulls.toLocaleString("en-US"), s.bound.toLocaleString("en-US")]),
      ),
    );
  }
  return lines.join("\n");
}

function fmtMb(mb: number): string {
  return `${mb >= 0 ? "+" : ""}${mb.toFixed(2)} MB`;
}
