/**
 * G. A BullMQ queue (Redis): 5,000 small jobs consumed by a sluice pipeline on
 * `@sluice/bullmq`'s `jobs()` against BullMQ's own `Worker` with the same concurrency doing
 * the same work. Both complete every job in Redis; filling the queue is not timed. Needs a
 * Redis: REDIS_URL, else a throwaway redis-server (scripts/redis-server.mjs).
 */
import { randomUUID } from "node:crypto";
import { Queue, Worker, type ConnectionOptions } from "bullmq";
import { jobs } from "@sluice/bullmq";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const CONCURRENCY = 16;

/** The work of one job: trivial and asynchronous, so the queue's own cost dominates. */
const work = async (n: number): Promise<number> => n * 2;

/** A queue filled with `n` jobs before each timed run, and emptied after it. */
class FilledQueue {
  #queue: Queue<number> | null = null;

  constructor(
    readonly connection: ConnectionOptions,
    readonly n: number,
  ) {}

  get name(): string {
    return this.#queue!.name;
  }

  async fill(): Promise<void> {
    await this.dispose();
    const queue = (this.#queue = new Queue<number>(`bench-g-${randomUUID()}`, { connection: this.connection }));
    for (let start = 0; start < this.n; start += 1_000) {
      const size = Math.min(1_000, this.n - start);
      await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: "n", data: start + i, opts: { removeOnComplete: true } })));
    }
  }

  async dispose(): Promise<void> {
    const queue = this.#queue;
    if (queue === null) return;
    this.#queue = null;
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** BullMQ's Worker: resolves once it has completed `n` jobs, after closing. */
async function bullmqWorker(connection: ConnectionOptions, queueName: string, n: number): Promise<string> {
  let sum = 0;
  let completed = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const worker = new Worker<number>(
    queueName,
    async (job) => {
      sum += await work(job.data);
    },
    { connection, concurrency: CONCURRENCY },
  );
  worker.on("completed", () => {
    if (++completed === n) done();
  });
  await all;
  await worker.close();
  return String(sum);
}

/** The same with sluice: a jobs() source, the work in a map stage, ended when the queue is drained. */
async function sluiceJobs(connection: ConnectionOptions, queueName: string): Promise<string> {
  let sum = 0;
  await jobs<number>(queueName, { connection, prefetch: CONCURRENCY, endWhenDrained: true })
    .map((job) => work(job.data), { workers: CONCURRENCY })
    .each((x) => {
      sum += x;
    })
    .run();
  return String(sum);
}

export function scenarioG(mode: Mode, redisUrl: string): { scenario: TimedScenario; dispose: () => Promise<void> } {
  const n = scaled(mode, 5_000, 100);
  const { hostname, port } = new URL(redisUrl);
  const connection: ConnectionOptions = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
  const queues = { worker: new FilledQueue(connection, n), sluice: new FilledQueue(connection, n) };
  return {
    scenario: {
      id: "G",
      title: "a BullMQ queue (Redis)",
      description: `${n.toLocaleString("en-US")} small jobs (\`async (n) => n * 2\`) in a BullMQ queue on a local Redis, consumed with concurrency ${CONCURRENCY}; every job completed in Redis. Filling the queue is not timed. Ratio = the Worker's time / sluice's time: above 1 is faster.`,
      reference: "BullMQ Worker",
      systems: [
        {
          name: "BullMQ Worker",
          note: `\`new Worker(queue, processor, { concurrency: ${CONCURRENCY} })\`, closed once every job has completed`,
          prepare: () => queues.worker.fill(),
          run: () => bullmqWorker(connection, queues.worker.name, n),
        },
        {
          name: "sluice",
          note: `\`jobs(queue, { prefetch: ${CONCURRENCY}, endWhenDrained: true }).map(f, { workers: ${CONCURRENCY} }).each(sum).run()\``,
          prepare: () => queues.sluice.fill(),
          run: () => sluiceJobs(connection, queues.sluice.name),
        },
      ],
      targets: [{ system: "sluice", against: "BullMQ Worker", metric: "throughput", value: 0.9, label: ">= 0.9x the Worker" }],
    },
    dispose: async () => {
      await queues.worker.dispose();
      await queues.sluice.dispose();
    },
  };
}
