// A consumer process for the fault tests (test/nats/faults.test.ts): runs a messages()
// pipeline on a durable consumer and prints "processed <stream sequence>" for every message
// its map stage finishes, until SIGTERM (an abort, which gives back what it holds).
// Arguments: nats-url stream consumer workers delay-ms.
import { messages } from "@sluice/nats";

const [url, stream, name, workers, delayMs] = process.argv.slice(2);
const controller = new AbortController();
process.once("SIGTERM", () => controller.abort(new Error("SIGTERM")));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
try {
  await messages({ stream, name }, { connection: { servers: url }, prefetch: Number(workers) })
    .map(async (message) => {
      await sleep(Number(delayMs));
      process.stdout.write(`processed ${message.info.streamSequence}\n`);
      return message;
    }, { workers: Number(workers) })
    .run({ signal: controller.signal });
} catch (error) {
  if (!controller.signal.aborted) {
    console.error(error);
    process.exit(1);
  }
}
