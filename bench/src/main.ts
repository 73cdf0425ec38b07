/**
 * `pnpm bench [--smoke | --full] [--sweep | --busy] [--only A,B,...] [--systems name,...] [--solo] [--ix] [--gc-between-runs] [--out file]`
 *
 * Runs the scenarios (docs/benchmarks.md) in one process and prints markdown tables of ratios (medians
 * of interleaved rounds after warm-up, with the spread of the rounds). The default is the
 * quick mode (about a minute); `--full` is the real run; `--smoke` runs every scenario tiny so
 * CI can check the bench still works, without judging its numbers. `--sweep` runs the
 * maxsize sweep instead of the scenarios; `--busy` times sluice and the worker pool in A, C, C2
 * and E alone and then beside a noisy neighbour (busy.ts). Progress goes to stderr, tables to stdout.
 *
 * Scenario G (a BullMQ queue) needs a Redis: REDIS_URL, else a throwaway redis-server on a free
 * port. Without either, `--smoke` (CI) fails, and other modes report that G was not run.
 * Scenario N (a NATS JetStream stream) likewise needs a nats-server: NATS_URL, else a
 * throwaway one (scripts/nats-server.mjs).
 *
 * `--systems sluice --solo` runs only the named systems (for `node --cpu-prof`); `--ix` adds
 * IxJS to scenario A (about 30 s a run); `--gc-between-runs` forces a full GC before every
 * timed run (see docs/benchmarks.md for why that is not the default).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import {
  MODES,
  evaluateTargets,
  formatTargets,
  formatTimed,
  hasGc,
  runTimed,
  type Mode,
  type TargetOutcome,
  type TimedScenario,
} from "./harness.js";
import { scenarioA } from "./scenario-a-overhead.js";
import { scenarioB } from "./scenario-b-io.js";
import { scenarioC, scenarioC2 } from "./scenario-c-ordered.js";
import { formatMemory, runMemory } from "./scenario-d-memory.js";
import { scenarioE } from "./scenario-e-small-runs.js";
import { scenarioF } from "./scenario-f-batch.js";
import { scenarioG } from "./scenario-g-bullmq.js";
import { startRedis, waitForRedis, type LocalRedis } from "../../scripts/redis-server.mjs";
import { scenarioN } from "./scenario-n-nats.js";
import { startNats, waitForNats, type LocalNats } from "../../scripts/nats-server.mjs";
import { scenarioH } from "./scenario-h-cpu.js";
import { scenarioK, scenarioK2 } from "./scenario-k-keys.js";
import { scenarioI } from "./scenario-i-adaptive.js";
import { runBusy } from "./busy.js";
import { runSweep } from "./sweep.js";

interface Args {
  mode: Mode;
  sweep: boolean;
  busy: boolean;
  only: string[];
  systems: string[];
  out: string | undefined;
  /** IxJS in scenario A (it is always in D). */
  ix: boolean;
  solo: boolean;
  gcBetweenRuns: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    mode: MODES.quick,
    sweep: false,
    busy: false,
    only: [],
    systems: [],
    out: undefined,
    ix: false,
    solo: false,
    gcBetweenRuns: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case "--":
        break;
      case "--full":
        args.mode = MODES.full;
        break;
      case "--quick":
        args.mode = MODES.quick;
        break;
      case "--smoke":
        args.mode = MODES.smoke;
        break;
      case "--sweep":
        args.sweep = true;
        break;
      case "--busy":
        args.busy = true;
        break;
      case "--ix":
        args.ix = true;
        break;
      case "--solo":
        args.solo = true;
        break;
      case "--gc-between-runs":
        args.gcBetweenRuns = true;
        break;
      case "--only":
        args.only = value().toUpperCase().split(",").filter(Boolean);
        break;
      case "--systems":
        args.systems = value().split(",").filter(Boolean);
        break;
      case "--out":
        args.out = value();
        break;
      case "--help":
      case "-h":
        process.stdout.write(
          "pnpm bench [--smoke | --quick | --full] [--sweep | --busy] [--only A,B,C,D,E,F,G,H,I,K,K2,N] [--systems sluice,...] [--solo] [--ix] [--gc-between-runs] [--out report.md]\n",
        );
        process.exit(0);
      default:
        throw new Error(`unknown argument ${arg} (try --help)`);
    }
  }
  return args;
}

/**
 * The Redis of scenario G: REDIS_URL's (as .ci/run sets it), else a throwaway redis-server.
 * Without either, `--smoke` (CI) fails, so the scenario cannot drop out unnoticed; a run by
 * hand says in its report that G was not run.
 */
async function redisForBench(mode: Mode, log: (line: string) => void): Promise<LocalRedis | undefined> {
  const given = process.env["REDIS_URL"];
  if (given !== undefined && given !== "") {
    await waitForRedis(given);
    return { url: given, stop: async () => {} };
  }
  try {
    return await startRedis();
  } catch (error) {
    if (mode.name === "smoke") throw error;
    log(`scenario G not run: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The NATS server of scenario N: NATS_URL's (as .ci/run sets it), else a throwaway nats-server; as {@link redisForBench}. */
async function natsForBench(mode: Mode, log: (line: string) => void): Promise<LocalNats | undefined> {
  const given = process.env["NATS_URL"];
  if (given !== undefined && given !== "") {
    await waitForNats(given);
    return { url: given, stop: async () => {} };
  }
  try {
    return await startNats();
  } catch (error) {
    if (mode.name === "smoke") throw error;
    log(`scenario N not run: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/** The commit measured, with `-dirty` when the working tree has uncommitted changes. */
function revision(): string {
  try {
    return execFileSync("git", ["describe", "--always", "--dirty"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
  return `Node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs available (${cpu}); load average at start ${load}; sluice at ${revision()}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (!hasGc()) log("warning: run with node --expose-gc (as pnpm bench does); without it GC is not forced between runs and D cannot run");
  const started = Date.now();
  const sections: string[] = [`## sluice bench (${args.sweep ? "maxsize sweep, " : args.busy ? "busy process, " : ""}${args.mode.name} mode)`, "", machine(), ""];
  const emit = (text: string) => {
    sections.push(text, "");
    process.stdout.write(`${text}\n\n`);
  };
  process.stdout.write(`${sections.join("\n")}\n`);

  if (args.sweep) {
    emit(await runSweep(args.mode, log));
  } else if (args.busy) {
    const wants = (id: string) => args.only.length === 0 || args.only.includes(id);
    const busyScenarios: [string, () => TimedScenario][] = [
      ["A", () => scenarioA(args.mode, { withIx: false })],
      ["C", () => scenarioC(args.mode)],
      ["C2", () => scenarioC2(args.mode)],
      ["E", () => scenarioE(args.mode)],
    ];
    emit(await runBusy(busyScenarios.filter(([id]) => wants(id)), args.mode, log));
  } else {
    const wants = (id: string) => args.only.length === 0 || args.only.includes(id);
    const outcomes: (TargetOutcome & { scenario: string })[] = [];
    // D last: its heap samples force full GCs, and a forced GC changes how V8 runs the code after it.
    const timed: [string, () => TimedScenario][] = [
      ["A", () => scenarioA(args.mode, { withIx: args.ix })],
      ["B", () => scenarioB(args.mode)],
      ["C", () => scenarioC(args.mode)],
      ["C2", () => scenarioC2(args.mode)],
      ["E", () => scenarioE(args.mode)],
      ["F", () => scenarioF(args.mode)],
      ["H", () => scenarioH(args.mode)],
      ["I", () => scenarioI(args.mode)],
      ["K", () => scenarioK(args.mode)],
      ["K2", () => scenarioK2(args.mode)],
    ];
    const filter = { systems: args.systems, solo: args.solo, gcBetweenRuns: args.gcBetweenRuns, log };
    for (const [id, make] of timed) {
      if (!wants(id)) continue;
      log(`scenario ${id}...`);
      const result = await runTimed(make(), args.mode, filter);
      emit(formatTimed(result));
      if (!args.solo) outcomes.push(...evaluateTargets(result).map((o) => ({ ...o, scenario: id })));
    }
    if (wants("G")) {
      log("scenario G...");
      const redis = await redisForBench(args.mode, log);
      if (redis === undefined) {
        emit("### G. a BullMQ queue (Redis)\n\nNot run: no Redis (set REDIS_URL, or install redis-server). `--smoke` fails instead.");
      } else {
        const g = scenarioG(args.mode, redis.url);
        try {
          const result = await runTimed(g.scenario, args.mode, filter);
          emit(formatTimed(result));
          if (!args.solo) outcomes.push(...evaluateTargets(result).map((o) => ({ ...o, scenario: "G" })));
        } finally {
          await g.dispose();
          await redis.stop();
        }
      }
    }
    if (wants("N")) {
      log("scenario N...");
      const nats = await natsForBench(args.mode, log);
      if (nats === undefined) {
        emit("### N. a NATS JetStream stream\n\nNot run: no NATS server (set NATS_URL, or install nats-server). `--smoke` fails instead.");
      } else {
        const scenario = scenarioN(args.mode, nats.url);
        try {
          const result = await runTimed(scenario.scenario, args.mode, filter);
          emit(formatTimed(result));
          if (!args.solo) outcomes.push(...evaluateTargets(result).map((o) => ({ ...o, scenario: "N" })));
        } finally {
          await scenario.dispose();
          await nats.stop();
        }
      }
    }
    if (wants("D")) {
      log("scenario D...");
      const memory = await runMemory(args.mode, { withIx: true, long: args.mode.name === "full", systems: args.systems, log });
      emit(formatMemory(memory));
      for (const row of memory.rows) {
        if (row.bound === undefined) continue;
        outcomes.push({
          scenario: "D",
          target: { system: row.name, against: "pull bound", metric: "time", value: row.bound, label: `pulls <= ${row.bound.toLocaleString("en-US")}` },
          median: row.pulls,
          min: row.pulls,
          max: row.pulls,
          met: row.pulls <= row.bound,
        });
      }
      if (memory.long !== undefined) {
        outcomes.push({
          scenario: "D",
          target: { system: "sluice", against: "1,000,000 elements", metric: "time", value: 5, label: "heap growth < 5 MB" },
          median: memory.long.maxGrowthMb,
          min: memory.long.growthMb,
          max: memory.long.maxGrowthMb,
          met: memory.long.maxGrowthMb < 5 && memory.long.boundHeld,
        });
      }
    }
    if (args.mode.name === "smoke") {
      emit("Smoke mode: every scenario ran at about 1% of its size to check the bench still works; its numbers are not judged.");
    } else if (outcomes.length > 0) {
      emit(["### targets", "", formatTargetsWithUnits(outcomes)].join("\n"));
    }
  }
  emit(`Finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  if (args.out !== undefined) writeFileSync(args.out, sections.join("\n"));
}

/** D's rows are counts and megabytes, not ratios: print them as such. */
function formatTargetsWithUnits(outcomes: readonly (TargetOutcome & { scenario: string })[]): string {
  const ratios = outcomes.filter((o) => o.scenario !== "D");
  const memory = outcomes.filter((o) => o.scenario === "D");
  const lines = ratios.length > 0 ? [formatTargets(ratios)] : [];
  for (const o of memory) {
    const measured = o.target.label.startsWith("heap")
      ? `largest growth ${o.max.toFixed(2)} MB, end ${o.min.toFixed(2)} MB`
      : `${o.median.toLocaleString("en-US")} pulls`;
    lines.push(`- D ${o.target.system}, ${o.target.label}: ${measured}: ${o.met ? "met" : "NOT met"}`);
  }
  return lines.join("\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
