/**
 * Shared tools of the @sluice/bullmq tests: the Redis of the run (test/helpers/redis-setup.ts),
 * fresh queues that are removed afterwards, short lock settings, and child consumers.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents, type ConnectionOptions } from "bullmq";
import { afterEach, inject } from "vitest";

/** Connection options for the Redis of this test run. */
export function connection(): ConnectionOptions {
  const url = new URL(inject("redisUrl"));
  return { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null };
}

/** Worker settings that make stalled jobs come back within about a second. */
export const FAST_LOCKS = { lockDuration: 1_000, stalledInterval: 300 } as const;

const opened: { close(): Promise<unknown> }[] = [];
const queues: Queue[] = [];

afterEach(async () => {
  for (const queue of queues.splice(0)) await queue.obliterate({ force: true });
  for (const closable of opened.splice(0).reverse()) await closable.close();
});

/** A new queue with a unique name, obliterated and closed after the test. */
export function freshQueue<T = unknown>(label: string): Queue<T> {
  const queue = new Queue<T>(`${label}-${randomUUID()}`, { connection: connection() });
  queues.push(queue as Queue);
  opened.push(queue);
  return queue;
}

/** Counts the "completed" events of a queue per job id (from Redis's event stream). */
export async function completions(queueName: string): Promise<Map<string, number>> {
  const events = new QueueEvents(queueName, { connection: connection() });
  opened.push(events);
  await events.waitUntilReady();
  const counts = new Map<string, number>();
  events.on("completed", ({ jobId }) => counts.set(jobId, (counts.get(jobId) ?? 0) + 1));
  return counts;
}

/** Waits until `condition()` holds, checking every 20 ms (helpers/poll.ts). */
export { pollUntil as until } from "../helpers/poll.js";

/** A consumer process (test/bullmq/consumer.mjs) and the job ids it reported processing. */
export class Consumer {
  readonly processed: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stderr = "";

  constructor(queueName: string, options: { prefetch: number; delayMs: number }) {
    const script = fileURLToPath(new URL("./consumer.mjs", import.meta.url));
    this.child = spawn(
      process.execPath,
      [script, inject("redisUrl"), queueName, String(options.prefetch), String(options.delayMs)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let pending = "";
    this.child.stdout!.on("data", (data: Buffer) => {
      pending += data.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith("processed ")) this.processed.push(line.slice("processed ".length));
    });
    this.child.stderr!.on("data", (data: Buffer) => {
      this.#stderr += data.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** What the process wrote to stderr (for failure messages). */
  get stderr(): string {
    return this.#stderr;
  }
}
