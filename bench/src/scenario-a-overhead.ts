/**
 * A. Overhead: 200,000 integers through async map -> filter -> map, 8 workers per stage,
 * trivial work. What the library itself costs per element when `f` costs nothing.
 */
import { Readable } from "node:stream";
import { pipe } from "@sluice/dsl";
import { pMapIterable, pMapSkip } from "p-map";
import { filter as rxFilter, from as rxFrom, lastValueFrom, mergeMap, toArray as rxToArray } from "rxjs";
import { from as ixFrom, toArray as ixToArray } from "ix/Ix.asynciterable";
import { flatMap as ixFlatMap } from "ix/Ix.asynciterable.operators";
import { SKIP, bagChecksum, range, workerPool } from "./common.js";
import { scaled, type Mode, type System, type TimedScenario } from "./harness.js";

const WORKERS = 8;

// The trivial work: async functions, as the I/O functions users pass are.
const double = async (x: number): Promise<number> => x * 2;
const notMultipleOf3 = async (x: number): Promise<boolean> => x % 3 !== 0;
const addOne = async (x: number): Promise<number> => x + 1;

export function scenarioA(mode: Mode, options: { withIx: boolean }): TimedScenario {
  const n = scaled(mode, 200_000, 100);
  const data = range(n);

  const systems: System[] = [
    {
      name: "for await loop",
      note: "sequential `for await (const x of data)`, awaiting each of the three functions in turn",
      run: async () => {
        const out: number[] = [];
        for await (const x of data) {
          const y = await double(x);
          if (await notMultipleOf3(y)) out.push(await addOne(y));
        }
        return bagChecksum(out);
      },
    },
    {
      name: "worker pool",
      note: `${WORKERS} hand-written async loops over one shared iterator, each running the whole chain (the practical limit)`,
      run: async () => {
        const out = await workerPool(data, WORKERS, async (x) => {
          const y = await double(x);
          return (await notMultipleOf3(y)) ? addOne(y) : SKIP;
        });
        return bagChecksum(out);
      },
    },
    {
      name: "sluice",
      note: `\`await pipe(data).map(f, { workers: ${WORKERS} }).filter(g, { workers: ${WORKERS} }).map(h, { workers: ${WORKERS} })\`, default maxsize`,
      run: async () => {
        const out = await pipe(data)
          .map(double, { workers: WORKERS })
          .filter(notMultipleOf3, { workers: WORKERS })
          .map(addOne, { workers: WORKERS });
        return bagChecksum(out);
      },
    },
    {
      name: "sluice, retry set",
      note: `the sluice row with \`retry: 3, onError: "skip"\` on every stage, never triggered: what the options cost when nothing fails`,
      run: async () => {
        const options = { workers: WORKERS, retry: 3, onError: "skip" } as const;
        const out = await pipe(data).map(double, options).filter(notMultipleOf3, options).map(addOne, options);
        return bagChecksum(out);
      },
    },
    {
      name: "p-map pMapIterable",
      note: `three chained \`pMapIterable(..., { concurrency: ${WORKERS} })\` (the filter returns \`pMapSkip\`), consumed with \`for await\`; ordered, as pMapIterable always is by default`,
      run: async () => {
        const s1 = pMapIterable(data, double, { concurrency: WORKERS });
        const s2 = pMapIterable(s1, async (x) => ((await notMultipleOf3(x)) ? x : pMapSkip), { concurrency: WORKERS });
        const s3 = pMapIterable(s2, addOne, { concurrency: WORKERS });
        const out: number[] = [];
        for await (const x of s3) out.push(x);
        return bagChecksum(out);
      },
    },
    {
      name: "Node Readable.map/filter",
      heavy: true,
      note: `\`Readable.from(data).map(f, { concurrency: ${WORKERS} }).filter(g, ...).map(h, ...).toArray()\``,
      run: async () => {
        const out = (await Readable.from(data)
          .map(double, { concurrency: WORKERS })
          .filter(notMultipleOf3, { concurrency: WORKERS })
          .map(addOne, { concurrency: WORKERS })
          .toArray()) as number[];
        return bagChecksum(out);
      },
    },
    {
      name: "RxJS mergeMap",
      heavy: true,
      note: `\`from(data)\` through \`mergeMap(f, ${WORKERS})\` three times (the filter maps to a skip marker, then a sync \`filter\`), \`lastValueFrom(toArray())\``,
      run: async () => {
        const out = await lastValueFrom(
          rxFrom(data).pipe(
            mergeMap(double, WORKERS),
            mergeMap(async (x) => ((await notMultipleOf3(x)) ? x : SKIP), WORKERS),
            rxFilter((x): x is number => x !== SKIP),
            mergeMap(addOne, WORKERS),
            rxToArray(),
          ),
        );
        return bagChecksum(out);
      },
    },
  ];
  if (options.withIx) {
    systems.push({
      name: "IxJS flatMap",
      informative: true,
      heavy: true,
      note: `\`from(data)\` through \`flatMap(async (x) => [await f(x)], ${WORKERS})\` three times (IxJS has no concurrent map; its concurrent flatMap is the nearest)`,
      run: async () => {
        const out = await ixToArray(
          ixFrom(data).pipe(
            ixFlatMap(async (x: number) => [await double(x)], WORKERS),
            ixFlatMap(async (x: number) => ((await notMultipleOf3(x)) ? [x] : []), WORKERS),
            ixFlatMap(async (x: number) => [await addOne(x)], WORKERS),
          ),
        );
        return bagChecksum(out);
      },
    });
  }

  return {
    id: "A",
    title: "overhead",
    description: `${n.toLocaleString("en-US")} integers through async map -> filter -> map, ${WORKERS} workers per stage, trivial work (\`x * 2\`, \`x % 3 !== 0\`, \`x + 1\`, each an \`async\` function). Ratio = reference time / system time: above 1 is faster than the sequential loop.`,
    reference: "for await loop",
    systems,
    targets: [
      { system: "sluice", against: "for await loop", metric: "throughput", value: 0.8, label: ">= 0.8x (stretch 1.0x)" },
      { system: "sluice", against: "p-map pMapIterable", metric: "throughput", value: 3, label: ">= 3x" },
    ],
  };
}
