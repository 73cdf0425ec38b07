/**
 * B. I/O-bound: 5,000 items, each a 1 ms timer, 100 workers. With real waiting in `f`, the
 * library's cost should vanish next to the hand-written pool's.
 */
import { Readable } from "node:stream";
import { pipe } from "@sluice/dsl";
import pMap from "p-map";
import { bagChecksum, delay, range, workerPool } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const WORKERS = 100;
const DELAY_MS = 1;

const io = (x: number): Promise<number> => delay(DELAY_MS, x);

export function scenarioB(mode: Mode): TimedScenario {
  const n = scaled(mode, 5_000, 200);
  const data = range(n);
  return {
    id: "B",
    title: "I/O-bound",
    description: `${n.toLocaleString("en-US")} items, each a ${DELAY_MS} ms \`setTimeout\`, ${WORKERS} workers, one map stage. The target is on time: sluice's time / the pool's time.`,
    reference: "worker pool",
    // A run is ~60 ms of mostly timer waiting: cheap, and timer jitter wants many rounds.
    roundsFactor: 3,
    systems: [
      {
        name: "worker pool",
        note: `${WORKERS} hand-written async loops over one shared iterator`,
        run: async () => bagChecksum(await workerPool(data, WORKERS, io)),
      },
      {
        name: "sluice",
        note: `\`await pipe(data).map(io, { workers: ${WORKERS} })\``,
        run: async () => bagChecksum(await pipe(data).map(io, { workers: WORKERS })),
      },
      {
        name: "p-map",
        informative: true,
        note: `\`pMap(data, io, { concurrency: ${WORKERS} })\``,
        run: async () => bagChecksum(await pMap(data, io, { concurrency: WORKERS })),
      },
      {
        name: "Node Readable.map",
        informative: true,
        note: `\`Readable.from(data).map(io, { concurrency: ${WORKERS} }).toArray()\``,
        run: async () => bagChecksum((await Readable.from(data).map(io, { concurrency: WORKERS }).toArray()) as number[]),
      },
    ],
    targets: [{ system: "sluice", against: "worker pool", metric: "time", value: 1.05, label: "time <= 1.05x" }],
  };
}
