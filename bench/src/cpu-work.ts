/**
 * The CPU-bound work of scenario H, and its worker module: tsc compiles this file to
 * dist/cpu-work.js, which piscina loads in each thread (Node 20 cannot load the .ts itself).
 * The main-thread systems import the same function.
 */
import { createHash } from "node:crypto";

/** One element's task: which bytes to start from, and how many SHA-256 rounds to apply. */
export interface CpuTask {
  readonly seed: number;
  readonly rounds: number;
}

/** Iterated SHA-256 from the seed's bytes: `rounds` hashes; returns the digest's first 32 bits. */
export default function fingerprint({ seed, rounds }: CpuTask): number {
  let digest: Buffer = Buffer.alloc(64, seed & 0xff);
  digest.writeUInt32LE(seed >>> 0, 0);
  for (let round = 0; round < rounds; round++) digest = createHash("sha256").update(digest).digest();
  return digest.readUInt32LE(0);
}

/** The rounds that take about `ms` milliseconds here, measured on this thread. */
export function roundsFor(ms: number): number {
  const probe = 2_000;
  fingerprint({ seed: 1, rounds: probe }); // warm up
  const start = performance.now();
  for (let i = 0; i < 5; i++) fingerprint({ seed: i, rounds: probe });
  const perRound = (performance.now() - start) / (5 * probe);
  return Math.max(1, Math.round(ms / perRound));
}
