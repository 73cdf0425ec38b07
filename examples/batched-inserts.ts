// Batched inserts: rows from an async source go to a (simulated) database in chunks of up to
// 100, each chunk one insertMany call, two in flight at a time. A chunk leaves when it is
// full or 20 ms after its first row, so a slow trickle of rows is still written promptly.
// Run: npx -y pnpm@10 examples && node examples/dist/batched-inserts.js
import { fileURLToPath } from "node:url";
import { pipe } from "@sluice/dsl";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Row {
  readonly id: number;
  readonly email: string;
}

/** A stand-in for a database client: each insertMany is one round trip of a few ms. */
class FakeDatabase {
  readonly rows: Row[] = [];
  calls = 0;
  largestChunk = 0;

  async insertMany(rows: readonly Row[]): Promise<void> {
    this.calls++;
    this.largestChunk = Math.max(this.largestChunk, rows.length);
    await sleep(3);
    this.rows.push(...rows);
  }
}

/** Rows arriving in bursts, with pauses between them (a queue, a socket, a file being written). */
async function* incomingRows(count: number): AsyncGenerator<Row> {
  for (let id = 1; id <= count; id++) {
    yield { id, email: `user${id}@example.com` };
    if (id % 250 === 0) await sleep(30);
  }
}

export async function main(log: (line: string) => void = console.log, count = 1_000): Promise<{ rows: number; calls: number; largestChunk: number }> {
  const db = new FakeDatabase();
  await pipe(() => incomingRows(count))
    .batch(100, { maxWait: 20 })
    .each((chunk) => db.insertMany(chunk), { workers: 2 })
    .run();
  log(`inserted ${db.rows.length} rows in ${db.calls} insertMany calls (largest chunk ${db.largestChunk})`);
  return { rows: db.rows.length, calls: db.calls, largestChunk: db.largestChunk };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
