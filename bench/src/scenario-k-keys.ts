/**
 * K. Per-key order (`key`), on the pattern of Confluent's parallel consumer table: 10 ms
 * calls, 16 workers. K: 10,000 elements with 10,000 distinct keys against the same stage
 * without `key` (what the gate costs when no key ever waits). K2: 1 key and 10 keys against
 * a sequential loop (1 key is sequential; 10 keys run 10 at a time). Two scenarios because
 * one key needs 10 ms per element: 10,000 of them would take 100 s a run.
 */
import { pipe } from "@sluice/dsl";
import { bagChecksum, delay, range } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const WORKERS = 16;
const DELAY_MS = 10;

const io = (x: number): Promise<number> => delay(DELAY_MS, x);

export function scenarioK(mode: Mode): TimedScenario {
  const n = scaled(mode, 10_000, 160);
  const data = range(n);
  return {
    id: "K",
    title: "per-key order, distinct keys",
    description: `${n.toLocaleString("en-US")} items, each a ${DELAY_MS} ms \`setTimeout\`, ${WORKERS} workers, one map stage; every item has its own key. Ratio = the stage without \`key\`'s time / system time.`,
    reference: "no key",
    // A full run is ~6 s of timer waiting: a few rounds suffice.
    roundsFactor: 0.3,
    systems: [
      {
        name: "no key",
        note: `\`pipe(data).map(io, { workers: ${WORKERS} })\``,
        run: async () => bagChecksum(await pipe(data).map(io, { workers: WORKERS })),
      },
      {
        name: "distinct keys",
        note: `\`pipe(data).map(io, { workers: ${WORKERS}, key: (x) => x })\``,
        run: async () => bagChecksum(await pipe(data).map(io, { workers: WORKERS, key: (x) => x })),
      },
    ],
    targets: [{ system: "distinct keys", against: "no key", metric: "throughput", value: 0.95, label: ">= 0.95x no key" }],
  };
}

export function scenarioK2(mode: Mode): TimedScenario {
  const n = scaled(mode, 200, 20);
  const data = range(n);
  return {
    id: "K2",
    title: "per-key order, few keys",
    description: `${n.toLocaleString("en-US")} items, each a ${DELAY_MS} ms \`setTimeout\`, ${WORKERS} workers, one map stage, keyed by \`x % keys\`. Ratio = the sequential loop's time / system time: 1 key is sequential (1x), 10 keys run 10 at a time (10x).`,
    reference: "sequential loop",
    roundsFactor: 0.3,
    systems: [
      {
        name: "sequential loop",
        note: "`for (const x of data) out.push(await io(x))`",
        run: async () => {
          const out: number[] = [];
          for (const x of data) out.push(await io(x));
          return bagChecksum(out);
        },
      },
      {
        name: "1 key",
        note: `\`pipe(data).map(io, { workers: ${WORKERS}, key: () => "one" })\``,
        run: async () => bagChecksum(await pipe(data).map(io, { workers: WORKERS, key: () => "one" })),
      },
      {
        name: "10 keys",
        note: `\`pipe(data).map(io, { workers: ${WORKERS}, key: (x) => x % 10 })\``,
        run: async () => bagChecksum(await pipe(data).map(io, { workers: WORKERS, key: (x) => x % 10 })),
      },
    ],
    targets: [
      { system: "1 key", against: "sequential loop", metric: "time", value: 1.05, label: "time <= 1.05x sequential" },
      { system: "10 keys", against: "sequential loop", metric: "throughput", value: 9, label: ">= 9x sequential" },
    ],
  };
}
