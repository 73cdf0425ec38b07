// The worker module of cpu-bound.ts. JavaScript, not TypeScript: Node 20 cannot load a .ts
// file in a worker thread. The JSDoc types are what TypeScript reads (with `allowJs`), so
// `typeof hashChunk` in cpu-bound.ts types the pipeline.
import { createHash } from "node:crypto";

/**
 * Fingerprints a chunk: SHA-256 of the bytes, then of the digest again, `rounds` times in
 * all (key stretching, about a millisecond of CPU for a few hundred rounds).
 *
 * @param {{ name: string, bytes: Uint8Array<ArrayBuffer>, rounds: number }} task
 * @returns {{ name: string, digest: string }}
 */
export default function hashChunk({ name, bytes, rounds }) {
  let digest = createHash("sha256").update(bytes).digest();
  for (let round = 1; round < rounds; round++) digest = createHash("sha256").update(digest).digest();
  return { name, digest: digest.toString("hex") };
}
