/**
 * F. Batches: 200,000 integers from an async source grouped into arrays of 100, each batch
 * handed to an async "bulk write" (a sum, so the work is trivial). What `batch()` costs per
 * element against the loop a user would write by hand to chunk a stream.
 */
import { pipe } from "@sluice/dsl";
import { range } from "./common.js";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const SIZE = 100;

async function* asyncSource(data: readonly number[]): AsyncGenerator<number> {
  for (const x of data) yield x;
}

// The trivial bulk write: async, as a database client's insertMany is.
const writeMany = async (chunk: readonly number[]): Promise<number> => {
  let sum = 0;
  for (const x of chunk) sum += x;
  return sum;
};

const checksum = (batches: number, total: number) => `batches=${batches} total=${total}`;

export function scenarioF(mode: Mode): TimedScenario {
  const n = scaled(mode, 200_000, 1_000);
  const data = range(n);
  return {
    id: "F",
    title: "batches",
    description: `${n.toLocaleString("en-US")} integers from an async generator, grouped into arrays of ${SIZE}, each written by one async call (a sum). Ratio = reference time / system time.`,
    reference: "chunking loop",
    systems: [
      {
        name: "chunking loop",
        note: `\`for await\` over the source, pushing into an array and writing it every ${SIZE} elements (and the rest at the end)`,
        run: async () => {
          let chunk: number[] = [];
          let batches = 0;
          let total = 0;
          for await (const x of asyncSource(data)) {
            chunk.push(x);
            if (chunk.length === SIZE) {
              total += await writeMany(chunk);
              batches++;
              chunk = [];
            }
          }
          if (chunk.length > 0) {
            total += await writeMany(chunk);
            batches++;
          }
          return checksum(batches, total);
        },
      },
      {
        name: "sluice",
        note: `\`pipe(source).batch(${SIZE}).map(writeMany)\`, collected`,
        run: async () => {
          let total = 0;
          const sums = await pipe(() => asyncSource(data)).batch(SIZE).map(writeMany);
          for (const s of sums) total += s;
          return checksum(sums.length, total);
        },
      },
    ],
    targets: [],
  };
}
