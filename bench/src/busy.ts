/**
 * Busy-process mode (`pnpm bench --busy`, issue 16): does sluice keep its speed when other
 * code shares the process? Each scenario's sluice and hand-written worker pool are timed
 * first alone, then with a noisy neighbour run before every timed run: a peer library's
 * pipeline (RxJS, Node streams and p-map in turn, on the same kind of work with the same
 * functions) plus garbage, some of it kept across rounds so that old space grows and full
 * collections happen. Every "alone" phase runs before any "busy" one, because what the
 * neighbour does to the process (its garbage, its feedback in shared functions) stays.
 *
 * The neighbour runs outside the timed window and the harness lets the event loop go idle
 * before each timed run, so what is measured is how the engine runs in a disturbed heap,
 * not who pays for work the neighbour left queued (docs/benchmarks.md, "Busy process").
 */
import { Readable } from "node:stream";
import { pMapIterable, pMapSkip } from "p-map";
import { filter as rxFilter, from as rxFrom, lastValueFrom, mergeMap, toArray as rxToArray } from "rxjs";
import { SKIP, range } from "./common.js";
import { fmtRange, fmtRatio, maxOf, median, minOf, runTimed, scaled, table, type Mode, type RunFilter, type TimedScenario } from "./harness.js";

const double = async (x: number): Promise<number> => x * 2;
const notMultipleOf3 = async (x: number): Promise<boolean> => x % 3 !== 0;
const addOne = async (x: number): Promise<number> => x + 1;

/** The peer pipelines the neighbour takes turns with: map -> filter -> map, 8 at a time. */
const PEERS: readonly { readonly name: string; readonly run: (data: readonly number[]) => Promise<number> }[] = [
  {
    name: "RxJS mergeMap",
    run: async (data) =>
      (
        await lastValueFrom(
          rxFrom(data).pipe(
            mergeMap(double, 8),
            mergeMap(async (x) => ((await notMultipleOf3(x)) ? x : SKIP), 8),
            rxFilter((x): x is number => x !== SKIP),
            mergeMap(addOne, 8),
            rxToArray(),
          ),
        )
      ).length,
  },
  {
    name: "Node Readable.map",
    run: async (data) =>
      (
        await Readable.from(data)
          .map(double, { concurrency: 8 })
          .filter(notMultipleOf3, { concurrency: 8 })
          .map(addOne, { concurrency: 8 })
          .toArray()
      ).length,
  },
  {
    name: "p-map pMapIterable",
    run: async (data) => {
      let count = 0;
      const doubled = pMapIterable(data, double, { concurrency: 8 });
      const kept = pMapIterable(doubled, async (x) => ((await notMultipleOf3(x)) ? x : pMapSkip), { concurrency: 8 });
      for await (const _ of pMapIterable(kept, addOne, { concurrency: 8 })) count++;
      return count;
    },
  },
];

/** A neighbour that runs a peer's pipeline and makes garbage each time it is called. */
class NoisyNeighbour {
  #turn = 0;
  /** Garbage kept alive across rounds, replaced bit by bit: it ages into old space. */
  readonly #kept: unknown[][] = [];
  readonly #data: readonly number[];
  readonly #garbageObjects: number;

  constructor(mode: Mode) {
    this.#data = range(scaled(mode, 20_000, 200));
    this.#garbageObjects = scaled(mode, 300_000, 3_000);
  }

  /** The peers it takes turns with, for the report. */
  get peers(): string {
    return PEERS.map((p) => p.name).join(", ");
  }

  readonly run = async (): Promise<void> => {
    const peer = PEERS[this.#turn++ % PEERS.length]!;
    await peer.run(this.#data);
    // Objects of several shapes, most dying young, one chunk in ten kept for later rounds.
    for (let chunk = 0; chunk < 10; chunk++) {
      const objects: unknown[] = [];
      for (let i = 0; i < this.#garbageObjects / 10; i++) {
        objects.push(i % 3 === 0 ? { id: i, tag: "x", next: null } : i % 3 === 1 ? [i, i + 1] : { value: i, at: chunk });
      }
      if (chunk === 0) this.#kept.push(objects);
    }
    if (this.#kept.length > 8) this.#kept.shift();
  };
}

/** One scenario's sluice and pool, alone or busy. */
interface Phase {
  readonly sluice: number[];
  readonly pool: number[];
}

/** The scenario cut down to the two systems compared here, the pool as the reference. */
function pairOf(scenario: TimedScenario): TimedScenario {
  const sluice = scenario.systems.find((s) => s.name === "sluice" || s.name === "sluice .ordered()");
  const pool = scenario.systems.find((s) => s.name.startsWith("worker pool"));
  if (sluice === undefined || pool === undefined) throw new Error(`scenario ${scenario.id} has no sluice or no worker pool`);
  return { ...scenario, reference: pool.name, systems: [pool, sluice], targets: [] };
}

async function phase(scenario: TimedScenario, mode: Mode, filter: RunFilter): Promise<Phase> {
  const result = await runTimed(pairOf(scenario), mode, filter);
  const [pool, sluice] = result.systems;
  return { pool: pool!.times, sluice: sluice!.times };
}

/** Runs the busy-process comparison for `scenarios` and returns the report's markdown. */
export async function runBusy(
  scenarios: readonly (readonly [string, () => TimedScenario])[],
  mode: Mode,
  log: (line: string) => void,
): Promise<string> {
  const neighbour = new NoisyNeighbour(mode);
  const quiet: RunFilter = { systems: [], solo: false, gcBetweenRuns: false, log };
  const busy: RunFilter = { ...quiet, beforeRun: neighbour.run };
  const alone = new Map<string, Phase>();
  for (const [id, make] of scenarios) {
    log(`busy mode: ${id} alone...`);
    alone.set(id, await phase(make(), mode, quiet));
  }
  const rows: string[][] = [];
  for (const [id, make] of scenarios) {
    log(`busy mode: ${id} beside the neighbour...`);
    const beside = await phase(make(), mode, busy);
    const before = alone.get(id)!;
    // Ratios of medians: the two phases are not paired round by round.
    const keep = median(before.sluice) / median(beside.sluice);
    const poolKeep = median(before.pool) / median(beside.pool);
    const perRound = beside.sluice.map((t, r) => beside.pool[r]! / t);
    rows.push([
      id,
      fmtRatio(keep),
      fmtRatio(poolKeep),
      fmtRatio(median(before.pool) / median(before.sluice)),
      `${fmtRatio(median(perRound))} (${fmtRange([minOf(perRound), maxOf(perRound)])})`,
    ]);
  }
  return [
    "### busy process",
    "",
    `Each scenario's sluice and worker pool, timed alone and then with a noisy neighbour before every timed run (${neighbour.peers} in turn, on ${scaled(mode, 20_000, 200).toLocaleString("en-US")} elements through map -> filter -> map, plus garbage, some kept across rounds). Throughput ratios; above 1 is faster.`,
    "",
    table(
      ["scenario", "sluice busy / sluice alone", "pool busy / pool alone", "sluice vs pool, alone", "sluice vs pool, busy (rounds)"],
      rows,
    ),
  ].join("\n");
}
