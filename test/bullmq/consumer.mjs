// A consumer process for the fault tests (test/bullmq/faults.test.ts): runs a jobs() pipeline
// on a queue and prints "processed <job id>" for every job its map stage finishes, until
// SIGTERM (an abort, which releases what it holds). Arguments: redis-url queue prefetch delay-ms.
import { jobs } from "@sluice/bullmq";

const [url, queueName, prefetch, delayMs] = process.argv.slice(2);
const { hostname, port } = new URL(url);
const controller = new AbortController();
process.once("SIGTERM", () => controller.abort(new Error("SIGTERM")));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  await jobs(queueName, {
    connection: { host: hostname, port: Number(port), maxRetriesPerRequest: null },
    prefetch: Number(prefetch),
    worker: { lockDuration: 1_000, stalledInterval: 300 },
  })
    .map(async (job) => {
      await sleep(Number(delayMs));
      process.stdout.write(`processed ${job.id}\n`);
      return job;
    }, { workers: Number(prefetch) })
    .run({ signal: controller.signal });
} catch (error) {
  if (!controller.signal.aborted) {
    console.error(error);
    process.exit(1);
  }
}
