/**
 * The measuring harness: modes, interleaved timing with warm-up, per-round ratios, medians
 * and spread, and the printed tables. Scenarios describe systems; this file runs them.
 */
import { performance } from "node:perf_hooks";

/** How big and how long a bench run is. */
export interface Mode {
  readonly name: "smoke" | "quick" | "full";
  /** Multiplies every scenario's element and run counts (1 = the sizes the issue fixes). */
  readonly scale: number;
  /** Untimed runs of every system before the timed rounds (JIT, caches, pretenuring). */
  readonly warmups: number;
  /** Timed rounds; in each round every system runs once, in a rotated order. */
  readonly rounds: number;
  /** Rounds (and no warm-up) for systems marked `heavy` (several seconds a run), or `undefined` for all rounds. */
  readonly heavyRounds: number | undefined;
}

export const MODES: Readonly<Record<Mode["name"], Mode>> = {
  smoke: { name: "smoke", scale: 0.01, warmups: 1, rounds: 1, heavyRounds: undefined },
  quick: { name: "quick", scale: 1, warmups: 1, rounds: 5, heavyRounds: 1 },
  full: { name: "full", scale: 1, warmups: 2, rounds: 11, heavyRounds: undefined },
};

/** A size scaled by the mode, never below `min`. */
export function scaled(mode: Mode, size: number, min = 1): number {
  return Math.max(min, Math.round(size * mode.scale));
}

/** One contender in a timed scenario. `run` does the whole workload once and returns a checksum. */
export interface System {
  readonly name: string;
  /** Shown under the table; what the system is and how it was configured. */
  readonly note?: string;
  /** Not part of the comparison the issue asks for; shown for context. */
  readonly informative?: boolean;
  /** Takes seconds per run: in quick mode it is timed in fewer rounds, without warm-up. */
  readonly heavy?: boolean;
  /** Untimed set-up before each run (scenario G fills a queue). */
  readonly prepare?: () => Promise<void>;
  readonly run: () => Promise<string>;
}

/** A target from the issue: the median ratio of `system` against `against` must pass. */
export interface Target {
  readonly system: string;
  readonly against: string;
  /** `throughput`: (against's time / system's time) >= value. `time`: (system's time / against's time) <= value. */
  readonly metric: "throughput" | "time";
  readonly value: number;
  /** Shown in the table, e.g. `>= 0.8x loop`. */
  readonly label: string;
}

export interface TimedScenario {
  readonly id: string;
  readonly title: string;
  /** What the workload is, in one or two lines. */
  readonly description: string;
  /** The name of the system ratios are taken against. */
  readonly reference: string;
  readonly systems: readonly System[];
  readonly targets: readonly Target[];
  /** Multiplies the mode's rounds (short scenarios afford more rounds, long ones fewer). */
  readonly roundsFactor?: number;
  /** Releases what the scenario holds between its runs (G's thread pool); called once it is done. */
  readonly close?: () => Promise<void>;
}

/** Per-system outcome: its times per round, and per-round ratios against the reference. */
export interface SystemResult {
  readonly name: string;
  readonly informative: boolean;
  readonly note: string | undefined;
  /** Milliseconds per round; `NaN` for a round the system sat out (a heavy system in quick mode). */
  readonly times: number[];
  /** Reference time / this system's time, per round it ran (> 1 = faster than the reference). */
  readonly throughput: number[];
}

export interface ScenarioResult {
  readonly scenario: TimedScenario;
  readonly systems: SystemResult[];
  readonly rounds: number;
  /** The system ratios were taken against: the scenario's reference, or the first system in solo mode. */
  readonly reference: string;
}

/** The harness options shared by every scenario. */
export interface RunFilter {
  /** Only these system names (case-insensitive substring), or all when empty. */
  readonly systems: readonly string[];
  /** Without the reference (for profiling one system): ratios are then meaningless. */
  readonly solo: boolean;
  /** A full GC before every timed run (off by default: see docs/benchmarks.md, "forced GC"). */
  readonly gcBetweenRuns: boolean;
  /** Runs before every timed run, outside the timed window (busy mode's neighbour). */
  readonly beforeRun?: () => Promise<void>;
  readonly log: (line: string) => void;
}

export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === "function";
}

/**
 * Runs every system `warmups` times, then `rounds` timed rounds. Round `r` starts with
 * system `r mod n` and goes round, so each system is measured in every position and a slow
 * phase of the shared machine, or a GC of garbage another system left, hits all of them
 * alike. Between runs the harness lets the event loop go idle (`settle`); it forces a full
 * GC only with `gcBetweenRuns`, because `global.gc()` itself changes how V8 treats the code
 * that runs after it (docs/benchmarks.md, "forced GC"). Every system's checksum must equal the
 * reference's: a system that skips work is a bench bug, not a fast system.
 */
export async function runTimed(scenario: TimedScenario, mode: Mode, filter: RunFilter): Promise<ScenarioResult> {
  try {
    return await timeRounds(scenario, mode, filter);
  } finally {
    await scenario.close?.();
  }
}

async function timeRounds(scenario: TimedScenario, mode: Mode, filter: RunFilter): Promise<ScenarioResult> {
  // A word names the system it equals, else every system whose name contains it.
  const names = scenario.systems.map((s) => s.name.toLowerCase());
  const wanted = (s: System) =>
    filter.systems.length === 0 ||
    filter.systems.some((want) => {
      const w = want.toLowerCase();
      return names.includes(w) ? s.name.toLowerCase() === w : s.name.toLowerCase().includes(w);
    });
  const systems = scenario.systems.filter((s) => (filter.solo ? wanted(s) : s.name === scenario.reference || wanted(s)));
  const reference = filter.solo ? systems[0] : systems.find((s) => s.name === scenario.reference);
  if (reference === undefined) throw new Error(`scenario ${scenario.id}: no system to run`);
  const rounds = Math.max(1, Math.round(mode.rounds * (scenario.roundsFactor ?? 1)));
  const light = (s: System) => s.heavy !== true || mode.heavyRounds === undefined;

  // Every system must compute what the reference computes.
  let expected: string | undefined;
  const check = (system: System, result: string) => {
    if (system === reference) expected ??= result;
    if (expected !== undefined && result !== expected && !filter.solo) {
      throw new Error(`scenario ${scenario.id}: ${system.name} returned ${result}, the reference ${expected}`);
    }
  };
  await reference.prepare?.();
  expected = await reference.run();
  for (let w = 0; w < mode.warmups; w++) {
    for (const system of systems) {
      if (!light(system)) continue;
      await system.prepare?.();
      check(system, await system.run());
    }
  }

  const times = new Map<System, number[]>(systems.map((s) => [s, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < systems.length; i++) {
      const system = systems[(r + i) % systems.length]!;
      if (!light(system) && r >= mode.heavyRounds!) {
        times.get(system)!.push(Number.NaN);
        continue;
      }
      if (filter.beforeRun !== undefined) await filter.beforeRun();
      await system.prepare?.();
      if (filter.gcBetweenRuns) forceGc();
      await settle();
      const start = performance.now();
      const result = await system.run();
      const elapsed = performance.now() - start;
      check(system, result);
      times.get(system)!.push(elapsed);
    }
    filter.log(`  ${scenario.id} round ${r + 1}/${rounds} done`);
  }

  const refTimes = times.get(reference)!;
  return {
    scenario,
    rounds,
    reference: reference.name,
    systems: systems.map((system) => {
      const own = times.get(system)!;
      return {
        name: system.name,
        informative: system.informative ?? false,
        note: system.note,
        times: own,
        throughput: own.map((t, r) => refTimes[r]! / t).filter((x) => !Number.isNaN(x)),
      };
    }),
  };
}

/**
 * Lets timers, I/O and tasks left over from the previous run fire before the next is timed:
 * turns the event loop until it comes back promptly a few times in a row. One turn is not
 * enough: a library can leave hundreds of milliseconds of queued work behind its promise
 * (issue 16: Effect's scheduler), which the next system would otherwise pay for at its first
 * yield to the event loop, while a system that never yields would not.
 */
async function settle(): Promise<void> {
  for (let quick = 0, turns = 0; quick < 3 && turns < 1_000; turns++) {
    const start = performance.now();
    await new Promise<void>((resolve) => setImmediate(resolve));
    quick = performance.now() - start < 1 ? quick + 1 : 0;
  }
}

// ---- statistics ------------------------------------------------------------------------

export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function minOf(values: readonly number[]): number {
  return values.reduce((a, b) => (Number.isNaN(b) ? a : Math.min(a, b)), Number.POSITIVE_INFINITY);
}

export function maxOf(values: readonly number[]): number {
  return values.reduce((a, b) => (Number.isNaN(b) ? a : Math.max(a, b)), Number.NEGATIVE_INFINITY);
}

/** Per-round ratios of `system` against `against` (both measured in the same round). */
export function pairRatios(result: ScenarioResult, system: string, against: string, metric: Target["metric"]): number[] {
  const a = result.systems.find((s) => s.name === system);
  const b = result.systems.find((s) => s.name === against);
  if (a === undefined || b === undefined) return [];
  return a.times.map((t, r) => (metric === "time" ? t / b.times[r]! : b.times[r]! / t)).filter((x) => !Number.isNaN(x));
}

export interface TargetOutcome {
  readonly target: Target;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly met: boolean;
}

export function evaluateTargets(result: ScenarioResult): TargetOutcome[] {
  const outcomes: TargetOutcome[] = [];
  for (const target of result.scenario.targets) {
    const ratios = pairRatios(result, target.system, target.against, target.metric);
    if (ratios.length === 0) continue;
    const m = median(ratios);
    outcomes.push({
      target,
      median: m,
      min: minOf(ratios),
      max: maxOf(ratios),
      met: target.metric === "time" ? m <= target.value : m >= target.value,
    });
  }
  return outcomes;
}

// ---- printing --------------------------------------------------------------------------

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x >= 100) return `${x.toFixed(0)}x`;
  if (x >= 10) return `${x.toFixed(1)}x`;
  return `${x.toFixed(2)}x`;
}

export function fmtRange(values: readonly number[]): string {
  return `${fmtRatio(minOf(values))}–${fmtRatio(maxOf(values))}`;
}

/** A markdown table whose columns are padded so it also reads well in a terminal. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** The table of one timed scenario: every system's throughput ratio against the reference. */
export function formatTimed(result: ScenarioResult): string {
  const { scenario } = result;
  const ref = result.systems.find((s) => s.name === result.reference)!;
  const rows = result.systems.map((s) => [
    s.name + (s.name === result.reference ? " (reference)" : s.informative ? " (context)" : ""),
    fmtRatio(median(s.throughput)),
    s.throughput.length < result.rounds ? `${fmtRange(s.throughput)} (${s.throughput.length} of ${result.rounds} rounds)` : fmtRange(s.throughput),
    fmtRatio(1 / median(s.throughput)),
  ]);
  const lines = [
    `### ${scenario.id}. ${scenario.title}`,
    "",
    scenario.description,
    "",
    table(["system", "throughput vs reference (median)", "spread (min–max of rounds)", "time vs reference"], rows),
    "",
    `${result.rounds} timed rounds; reference median ${median(ref.times).toFixed(1)} ms per run (for scale only).`,
  ];
  const notes = result.systems.filter((s) => s.note !== undefined);
  if (notes.length > 0) {
    lines.push("");
    for (const s of notes) lines.push(`- ${s.name}: ${s.note}`);
  }
  return lines.join("\n");
}

export function formatTargets(outcomes: readonly (TargetOutcome & { scenario: string })[]): string {
  const rows = outcomes.map((o) => [
    o.scenario,
    `${o.target.system} vs ${o.target.against}`,
    o.target.label,
    `${fmtRatio(o.median)} (${fmtRatio(o.min)}–${fmtRatio(o.max)})`,
    o.met ? "met" : "NOT met",
  ]);
  return table(["scenario", "comparison", "target", "measured median (spread)", "result"], rows);
}
