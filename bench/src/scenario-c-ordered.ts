/**
 * C. Ordered under uneven latency: one stage, 8 workers, seeded random small delays, source
 * order kept. A slow element must not stall the workers behind it, and ordering must not
 * cost much per element.
 *
 * C is the scenario with the delays as real timers (0-3 ms). C2 is the same with
 * delays shorter than a timer can express (0-3 event-loop turns), where the per-element cost
 * of ordering shows instead of the waiting.
 */
import { Readable } from "node:stream";
import { pipe } from "@sluice/dsl";
import { pMapIterable } from "p-map";
import { delay, nextMacrotask, range, seededRandom, sequenceChecksum } from "./common.js";
import { scaled, type Mode, type System, type TimedScenario } from "./harness.js";

const WORKERS = 8;
const MAX_DELAY = 3;

/** Waits `turns` macrotasks (`setImmediate`), then resolves with `value`. */
async function turns<T>(count: number, value: T): Promise<T> {
  for (let i = 0; i < count; i++) await nextMacrotask();
  return value;
}

/**
 * The hand-written ideal: `workers` loops over one shared iterator writing each result at
 * its index, so order costs nothing and no worker ever waits for an earlier element (it
 * streams nothing, though: results are only usable at the end).
 */
async function indexedPool(data: readonly number[], workers: number, f: (x: number) => Promise<number>): Promise<number[]> {
  const out = new Array<number>(data.length);
  let next = 0;
  const loop = async () => {
    while (next < data.length) {
      const i = next++;
      out[i] = await f(data[i]!);
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < workers; i++) loops.push(loop());
  await Promise.all(loops);
  return out;
}

function orderedSystems(data: readonly number[], f: (x: number) => Promise<number>): System[] {
  return [
    {
      name: "p-map pMapIterable",
      note: `\`pMapIterable(data, f, { concurrency: ${WORKERS} })\` (ordered by default), consumed with \`for await\``,
      run: async () => {
        const out: number[] = [];
        for await (const x of pMapIterable(data, f, { concurrency: WORKERS })) out.push(x);
        return sequenceChecksum(out);
      },
    },
    {
      name: "sluice .ordered()",
      note: `\`await pipe(data).map(f, { workers: ${WORKERS} }).ordered()\``,
      run: async () => sequenceChecksum(await pipe(data).map(f, { workers: WORKERS }).ordered()),
    },
    {
      name: "worker pool, results by index",
      informative: true,
      note: `${WORKERS} hand-written loops writing \`out[i]\`: the ceiling for this workload (no worker ever waits for order; not streaming)`,
      run: async () => sequenceChecksum(await indexedPool(data, WORKERS, f)),
    },
    {
      name: "Node Readable.map",
      informative: true,
      note: `\`Readable.from(data).map(f, { concurrency: ${WORKERS} }).toArray()\` (Readable.map keeps order)`,
      run: async () => sequenceChecksum((await Readable.from(data).map(f, { concurrency: WORKERS }).toArray()) as number[]),
    },
  ];
}

const target = { system: "sluice .ordered()", against: "p-map pMapIterable", metric: "throughput", value: 2, label: ">= 2x" } as const;

export function scenarioC(mode: Mode): TimedScenario {
  const n = scaled(mode, 1_000, 50);
  const data = range(n);
  const random = seededRandom(42);
  // Delays are fixed per element, so every system sees exactly the same latencies.
  const delays = data.map(() => Math.floor(random() * (MAX_DELAY + 1)));
  return {
    id: "C",
    title: "ordered",
    description: `${n.toLocaleString("en-US")} elements, one stage, ${WORKERS} workers, each call a \`setTimeout\` of a seeded random 0-${MAX_DELAY} ms; output in source order (checked by an order-sensitive checksum).`,
    reference: "p-map pMapIterable",
    systems: orderedSystems(data, (x) => delay(delays[x]!, x)),
    targets: [target],
  };
}

export function scenarioC2(mode: Mode): TimedScenario {
  const n = scaled(mode, 20_000, 200);
  const data = range(n);
  const random = seededRandom(43);
  const hops = data.map(() => Math.floor(random() * (MAX_DELAY + 1)));
  return {
    id: "C2",
    title: "ordered, sub-millisecond delays",
    description: `${n.toLocaleString("en-US")} elements, one stage, ${WORKERS} workers, each call waits a seeded random 0-${MAX_DELAY} event-loop turns (\`setImmediate\`); output in source order (checked).`,
    reference: "p-map pMapIterable",
    systems: orderedSystems(data, (x) => turns(hops[x]!, x)),
    targets: [target],
  };
}
