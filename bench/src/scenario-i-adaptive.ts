/**
 * I. A service that pushes back: 1,500 calls to a simulated service in real time whose latency
 * (10 ms idle) rises steeply with the calls in flight and which refuses more than 16 with a
 * 429. `workers: "auto"` against a sweep of fixed `workers` (its best and worst are in the
 * table) and p-map at the best fixed concurrency. Refused calls are retried after a back-off.
 */
import { pipe } from "@sluice/dsl";
import pMap from "p-map";
import { bagChecksum, range } from "./common.js";
import { scaled, type Mode, type System, type TimedScenario } from "./harness.js";
import { SimulatedService } from "./simulated-service.js";

const KNEE = 16;
const BASE_MS = 10;
/** The fixed `workers` swept: below the knee, near the best (12 on the fake-clock sweep of the tests), at and past the knee. */
const SWEEP = [4, 8, 12, 16, 24] as const;
const BEST = 12;
// Enough retries that no element runs out of them: past the knee (24), an unlucky element is refused again and again.
const retry = { retries: 10_000, minDelay: 2, maxDelay: 20 };

export function scenarioI(mode: Mode): TimedScenario {
  const n = scaled(mode, 1_500, 50);
  const data = range(n);
  const service = () => new SimulatedService(KNEE, BASE_MS, 1);
  const sluice = (workers: number | "auto"): System => ({
    name: workers === "auto" ? "sluice auto" : `sluice workers: ${workers}`,
    note: `\`pipe(data).map(call, { workers: ${JSON.stringify(workers)}, retry })\`, a new service per run`,
    run: async () => {
      const api = service();
      return bagChecksum(await pipe(data).map((x) => api.call(x), { workers, retry }));
    },
  });
  return {
    id: "I",
    title: "a service that pushes back",
    description: `${n.toLocaleString("en-US")} calls to a simulated service: ${BASE_MS} ms idle, x(1 + (n/${KNEE})^4) with n calls in flight, 429 past ${KNEE}; refused calls retried. Ratio = reference time / system time.`,
    reference: `sluice workers: ${BEST}`,
    systems: [
      sluice("auto"),
      ...SWEEP.map((workers) => sluice(workers)),
      {
        name: `p-map concurrency: ${BEST}`,
        informative: true,
        note: `\`pMap(data, call, { concurrency: ${BEST} })\`: the best fixed setting, which never passes the knee (so needs no retries)`,
        run: async () => {
          const api = service();
          return bagChecksum(await pMap(data, (x) => api.call(x), { concurrency: BEST }));
        },
      },
    ],
    targets: [{ system: "sluice auto", against: `sluice workers: ${BEST}`, metric: "throughput", value: 0.9, label: ">= 0.9x the best fixed" }],
  };
}
