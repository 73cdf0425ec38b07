/**
 * Stress (docs/behaviour.md §3, §4, §8): a million elements through three concurrent stages whose calls
 * are mostly synchronous with random occasional awaits (microtasks, immediates, timers) all
 * arrive, each exactly once: none lost, none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pipe, type Pipeline } from "@sluice/dsl";
import { UnhandledRejections, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

const N = 1_000_000;

/** A small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Now and then (about 1 call in 300) a tiny asynchronous pause: a microtask, an immediate or (rarely) a timer. */
function tinyDelay(rand: () => number): Promise<void> | undefined {
  const r = rand();
  if (r > 1 / 300) return undefined;
  if (r < 1 / 30_000) return sleep(0);
  return r < 1 / 600 ? Promise.resolve() : immediate();
}

function threeStages(seed: number): Pipeline<number> {
  const rand = random(seed);
  return pipe(function* () {
    for (let i = 0; i < N; i++) yield i;
  })
    .map(
      (x) => {
        const wait = tinyDelay(rand);
        return wait === undefined ? x : wait.then(() => x);
      },
      { workers: 4 },
    )
    .flatMap(
      (x) => {
        const wait = tinyDelay(rand);
        if (wait === undefined) return [x];
        return rand() < 0.5
          ? wait.then(() => [x])
          : (async function* () {
              await wait;
              yield x;
            })();
      },
      { workers: 3, maxsize: 8 },
    )
    .filter(
      (x) => {
        const wait = tinyDelay(rand);
        return wait === undefined ? x >= 0 : wait.then(() => x >= 0);
      },
      { workers: 2 },
    );
}

function checkExactlyOnce(arrivals: Uint8Array, count: number, seed: number): void {
  let missing = 0;
  let duplicated = 0;
  for (let i = 0; i < N; i++) {
    if (arrivals[i] === 0) missing++;
    else if (arrivals[i]! > 1) duplicated++;
  }
  expect({ seed, count, missing, duplicated }).toEqual({ seed, count: N, missing: 0, duplicated: 0 });
}

describe("stress", () => {
  it("1,000,000 elements through three concurrent stages with random tiny delays all arrive, each exactly once (toArray)", async () => {
    const seed = (Math.random() * 2 ** 32) >>> 0;
    const values = await threeStages(seed).toArray();
    const arrivals = new Uint8Array(N);
    for (const x of values) arrivals[x]!++;
    checkExactlyOnce(arrivals, values.length, seed);
    expect(unhandled.count).toBe(0);
  }, 30_000);

  it("1,000,000 elements through three concurrent stages with random tiny delays all arrive, each exactly once (for await)", async () => {
    const seed = (Math.random() * 2 ** 32) >>> 0;
    const arrivals = new Uint8Array(N);
    let count = 0;
    for await (const x of threeStages(seed)) {
      arrivals[x]!++;
      count++;
    }
    checkExactlyOnce(arrivals, count, seed);
    expect(unhandled.count).toBe(0);
  }, 30_000);
});
