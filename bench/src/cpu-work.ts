/**
 * The CPU-bound work of scenario H, and its worker module: tsc compiles this file to
 * dist/cpu-work.js, which piscina loads in each thread (Node 20 cannot load the .ts itself).
 * The main-thread systems import the same function.
 *
 * The work is a hash written in JavaScript (MurmurHash3's 32-bit mixing steps, iterated over a
 * small state) and allocates nothing: it measures how CPU time spreads over threads. Work that
 * allocates on every round (iterated SHA-256 through `node:crypto`, a `Hash` object and a
 * `Buffer` per round) scaled to only 1.4-1.5x on two bare threads here, because the main
 * thread alone already gets the second core for its garbage collector's helper threads
 * (docs/benchmarks.md, scenario H).
 */

/** One element's task: the seed of the state, and how many rounds to hash it. */
export interface CpuTask {
  readonly seed: number;
  readonly rounds: number;
}

const WORDS = 64;
// One state per thread, reused by every call: the work allocates nothing.
const state = new Int32Array(WORDS);

/** `rounds` passes of MurmurHash3's mixing over a 64-word state seeded from `seed`; returns a 32-bit digest. */
export default function fingerprint({ seed, rounds }: CpuTask): number {
  for (let i = 0; i < WORDS; i++) state[i] = Math.imul(seed + i, 0x9e3779b1);
  let h = seed | 0;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < WORDS; i++) {
      let k = state[i]! ^ h;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      h ^= k;
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      state[i] = k;
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The rounds that take about `ms` milliseconds here, measured on this thread after a warm-up. */
export function roundsFor(ms: number): number {
  const probe = 200;
  for (let i = 0; i < 50; i++) fingerprint({ seed: i, rounds: probe }); // warm up: let the JIT optimise it
  const start = performance.now();
  for (let i = 0; i < 20; i++) fingerprint({ seed: i, rounds: probe });
  const perRound = (performance.now() - start) / (20 * probe);
  return Math.max(1, Math.round(ms / perRound));
}
