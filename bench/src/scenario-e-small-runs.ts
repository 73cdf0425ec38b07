/**
 * E. Many small runs, as a service uses a pipeline per request: 20,000 separate runs of 10
 * elements each through one map. Run set-up and teardown dominate.
 */
import { pipe } from "@sluice/dsl";
import pMap from "p-map";
import { range, workerPool } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const ELEMENTS = 10;
const WORKERS = 4;

const double = async (x: number): Promise<number> => x * 2;

export function scenarioE(mode: Mode): TimedScenario {
  const runs = scaled(mode, 20_000, 200);
  const items = range(ELEMENTS);
  const checksum = (total: number) => `runs=${runs} total=${total}`;
  let current = items;
  const prebuilt = pipe(() => current).map(double, { workers: WORKERS });
  return {
    id: "E",
    title: "many small runs",
    description: `${runs.toLocaleString("en-US")} runs, one after another, each of ${ELEMENTS} elements through one async map (\`x * 2\`) with ${WORKERS} workers; every run builds its pipeline as a request handler would.`,
    reference: "p-map",
    systems: [
      {
        name: "p-map",
        note: `\`await pMap(items, f, { concurrency: ${WORKERS} })\` per run`,
        run: async () => {
          let total = 0;
          for (let r = 0; r < runs; r++) for (const x of await pMap(items, double, { concurrency: WORKERS })) total += x;
          return checksum(total);
        },
      },
      {
        name: "sluice",
        note: `\`await pipe(items).map(f, { workers: ${WORKERS} })\` per run (builds and validates the pipeline each time)`,
        run: async () => {
          let total = 0;
          for (let r = 0; r < runs; r++) for (const x of await pipe(items).map(double, { workers: WORKERS })) total += x;
          return checksum(total);
        },
      },
      {
        name: "sluice, pipeline built once",
        informative: true,
        note: "one `pipe(() => current).map(f, ...)` value awaited per run: the run alone, without building",
        run: async () => {
          let total = 0;
          for (let r = 0; r < runs; r++) {
            current = items;
            for (const x of await prebuilt) total += x;
          }
          return checksum(total);
        },
      },
      {
        name: "worker pool",
        informative: true,
        note: `${WORKERS} hand-written async loops per run`,
        run: async () => {
          let total = 0;
          for (let r = 0; r < runs; r++) for (const x of await workerPool(items, WORKERS, double)) total += x;
          return checksum(total);
        },
      },
    ],
    targets: [{ system: "sluice", against: "p-map", metric: "throughput", value: 1.5, label: ">= 1.5x" }],
  };
}
