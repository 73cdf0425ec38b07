// Beyond one process, part 1: a producer that puts work on a BullMQ queue (Redis). Start one
// or more consumers (queue-consumer.ts) in other terminals; they share the queue's jobs.
// Run: npx -y pnpm@10 examples && node examples/dist/queue-producer.js [count]
// (Redis at REDIS_URL, default redis://127.0.0.1:6379)
import { fileURLToPath } from "node:url";
import { Queue, type ConnectionOptions } from "bullmq";

/** The job data: a number to square. */
export interface SquareJob {
  readonly n: number;
}

/** The queues both scripts use. */
export const QUEUES = { work: "squares", results: "squares-results" } as const;

/** Connection options for the Redis at `url`. */
export function connectionFor(url = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"): ConnectionOptions {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

export async function main(
  log: (line: string) => void = console.log,
  { connection = connectionFor(), count = 200, queueName = QUEUES.work }: { connection?: ConnectionOptions; count?: number; queueName?: string } = {},
): Promise<{ added: number }> {
  const queue = new Queue<SquareJob>(queueName, { connection });
  try {
    // Three attempts with a short backoff: a job whose element fails runs again.
    await queue.addBulk(
      Array.from({ length: count }, (_, n) => ({ name: "square", data: { n }, opts: { attempts: 3, backoff: { type: "fixed", delay: 100 } } })),
    );
    log(`added ${count} jobs to ${queueName}`);
    return { added: count };
  } finally {
    await queue.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(console.log, { count: Number(process.argv[2] ?? 200) });
