/**
 * C. Ordered under uneven latency: one stage, 8 workers, seeded random delays of 0-3 ms,
 * source order kept. A slow element must not stall the workers behind it.
 */
import { Readable } from "node:stream";
import { pipe } from "@sluice/dsl";
import { pMapIterable } from "p-map";
import { delay, range, seededRandom, sequenceChecksum } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const WORKERS = 8;
const MAX_DELAY_MS = 3;

export function scenarioC(mode: Mode): TimedScenario {
  const n = scaled(mode, 1_000, 50);
  const data = range(n);
  const random = seededRandom(42);
  // Delays are fixed per element, so every system sees exactly the same latencies.
  const delays = data.map(() => Math.floor(random() * (MAX_DELAY_MS + 1)));
  const slow = (x: number): Promise<number> => delay(delays[x]!, x);
  return {
    id: "C",
    title: "ordered",
    description: `${n.toLocaleString("en-US")} elements, one stage, ${WORKERS} workers, each call a \`setTimeout\` of a seeded random 0-${MAX_DELAY_MS} ms; output in source order (checked).`,
    reference: "p-map pMapIterable",
    systems: [
      {
        name: "p-map pMapIterable",
        note: `\`pMapIterable(data, f, { concurrency: ${WORKERS} })\` (ordered by default), consumed with \`for await\``,
        run: async () => {
          const out: number[] = [];
          for await (const x of pMapIterable(data, slow, { concurrency: WORKERS })) out.push(x);
          return sequenceChecksum(out);
        },
      },
      {
        name: "sluice .ordered()",
        note: `\`await pipe(data).map(f, { workers: ${WORKERS} }).ordered()\``,
        run: async () => sequenceChecksum(await pipe(data).map(slow, { workers: WORKERS }).ordered()),
      },
      {
        name: "Node Readable.map",
        informative: true,
        note: `\`Readable.from(data).map(f, { concurrency: ${WORKERS} }).toArray()\` (Readable.map keeps order)`,
        run: async () => sequenceChecksum((await Readable.from(data).map(slow, { concurrency: WORKERS }).toArray()) as number[]),
      },
    ],
    targets: [{ system: "sluice .ordered()", against: "p-map pMapIterable", metric: "throughput", value: 2, label: ">= 2x" }],
  };
}

