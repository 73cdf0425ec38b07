// Beyond one process, part 2: a consumer of the producer's queue. Run it in two terminals and
// the two processes share the jobs; kill one mid-way and the other finishes its jobs once
// their locks expire. Each job is acknowledged only when its result has been enqueued.
// Run: npx -y pnpm@10 examples && node examples/dist/queue-consumer.js [name] [--drain]
// (Ctrl-C releases the jobs in hand back to the queue, then exits)
import { fileURLToPath } from "node:url";
import { Queue, type ConnectionOptions } from "bullmq";
import { enqueue, jobs } from "@sluice/bullmq";
import { QUEUES, connectionFor, type SquareJob } from "./queue-producer.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function main(
  log: (line: string) => void = console.log,
  {
    connection = connectionFor(),
    name = `consumer-${process.pid}`,
    queueName = QUEUES.work,
    resultsName = QUEUES.results,
    drain = true,
    signal,
  }: { connection?: ConnectionOptions; name?: string; queueName?: string; resultsName?: string; drain?: boolean; signal?: AbortSignal } = {},
): Promise<{ processed: number }> {
  const results = new Queue<{ n: number; square: number }>(resultsName, { connection });
  let processed = 0;
  try {
    await jobs<SquareJob>(queueName, { connection, prefetch: 8, endWhenDrained: drain })
      .map(
        async (job) => {
          await sleep(2); // the work: a stand-in for an API call
          processed++;
          return { job, n: job.data.n, square: job.data.n ** 2 };
        },
        { workers: 8 },
      )
      // The result's id comes from the job's id: a job that runs again does not add it twice.
      .through(enqueue(results, { name: "result", origin: (r) => r.job, data: (r) => ({ n: r.n, square: r.square }) }))
      .run(signal === undefined ? {} : { signal });
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    await results.close();
  }
  log(`${name}: processed ${processed} jobs`);
  return { processed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  process.once("SIGTERM", () => controller.abort());
  await main(console.log, { name: process.argv[2] ?? `consumer-${process.pid}`, drain: process.argv.includes("--drain"), signal: controller.signal });
}
