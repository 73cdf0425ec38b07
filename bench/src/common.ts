/** Helpers shared by the scenarios: timers, a seeded PRNG, checksums and the hand-written pool. */

/** Resolves with `value` after `ms` milliseconds (a real timer, as an I/O call would be). */
export function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(resolve, ms, value));
}

/** Resolves in the next macrotask (`setImmediate`): a consumer that does a little work per element. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** mulberry32: a small seeded PRNG, so every system sees the same "random" delays. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An order-insensitive checksum: count and sum. */
export function bagChecksum(values: readonly number[]): string {
  let sum = 0;
  for (const v of values) sum += v;
  return `n=${values.length} sum=${sum}`;
}

/** An order-sensitive checksum: a rolling hash of the sequence. */
export function sequenceChecksum(values: readonly number[]): string {
  let h = 0;
  for (const v of values) h = (Math.imul(h, 31) + v) | 0;
  return `n=${values.length} hash=${h}`;
}

/**
 * The minimal hand-written bounded worker pool: `workers` async loops pulling from one shared
 * iterator, each running the element through `work` and pushing what it returns (unless
 * `skip`). No queues, no ordering, no cancellation, no per-stage concurrency: the practical
 * floor of what concurrency costs in plain code.
 */
export async function workerPool<T, U>(
  source: Iterable<T>,
  workers: number,
  work: (value: T) => Promise<U | typeof SKIP>,
): Promise<U[]> {
  const iterator = source[Symbol.iterator]();
  const out: U[] = [];
  const loop = async (): Promise<void> => {
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
      const result = await work(next.value);
      if (result !== SKIP) out.push(result);
    }
  };
  const loops: Promise<void>[] = [];
  for (let i = 0; i < workers; i++) loops.push(loop());
  await Promise.all(loops);
  return out;
}

/** A value that means "filtered out" in the peers that have no filter stage of their own. */
export const SKIP: unique symbol = Symbol("skip");

/** `0, 1, ..., n - 1`. */
export function range(n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}
