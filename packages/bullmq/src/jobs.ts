import type { ConnectionOptions, Job, WorkerOptions } from "bullmq";
import { OptionsError, maxTimerDelay, source, type Pipeline } from "@sluice/dsl";
import type { ConnectionError } from "./connection-error.js";
import { JobFeed, type FeedSettings, type HeldJobs } from "./job-feed.js";

/**
 * Options of {@link jobs}.
 *
 * @example
 * ```ts
 * const options: JobSourceOptions = {
 *   connection: { host: "127.0.0.1", port: 6379 },
 *   prefetch: 32,
 *   worker: { lockDuration: 30_000 },
 * };
 * ```
 */
export interface JobSourceOptions {
  /** Where Redis is: ioredis options or an ioredis instance, as BullMQ's `Worker` takes them. */
  readonly connection: ConnectionOptions;
  /**
   * How many jobs one run holds at once, taken from the queue and not yet acknowledged
   * (BullMQ's `concurrency`); default 16. This replaces the pull bound of a plain source:
   * a run never takes more jobs than this, however large the stages' `workers` and
   * `maxsize`, so give it at least the `workers` of the busiest stage.
   */
  readonly prefetch?: number | undefined;
  /**
   * End the data once no job of the queue waits (delayed ones, such as the later attempts of
   * failed jobs, included) and every job taken has settled, instead of waiting for more (a
   * batch consumer). Checked against Redis when the worker finds the queue empty, and every
   * 250 ms while jobs are left that this run does not hold. Jobs active in other consumers
   * are not waited for. Default `false`: the run goes on until it is aborted.
   */
  readonly endWhenDrained?: boolean | undefined;
  /**
   * Further options of the BullMQ `Worker` behind the source (`lockDuration`,
   * `stalledInterval`, `maxStalledCount`, `prefix`, `limiter`, ...). `connection`,
   * `concurrency` and `autorun` are set by the source.
   */
  readonly worker?: Omit<WorkerOptions, "connection" | "concurrency" | "autorun"> | undefined;
  /**
   * Called with the errors the worker reports (a lost connection, an acknowledgement that
   * found its lock gone because the job stalled and moved on). They do not stop the run:
   * BullMQ retries and the stalled-job check recovers. Default: `console.error`.
   */
  readonly onWorkerError?: ((error: Error) => void) | undefined;
  /**
   * How long a run waits for its Redis connections to be ready, in milliseconds, before it
   * fails with a {@link ConnectionError} (Redis down, a wrong host or port). The connection's
   * errors while it tries are not reported one by one: the last is the error's `cause`.
   *
   * @default 10_000
   */
  readonly connectTimeout?: number | undefined;
}

/** The default of {@link JobSourceOptions.connectTimeout}, in milliseconds. */
const DEFAULT_CONNECT_TIMEOUT = 10_000;

const OPTION_KEYS = ["connection", "prefetch", "endWhenDrained", "worker", "onWorkerError", "connectTimeout"];

/**
 * A source of jobs from the BullMQ queue `queueName`, each acknowledged once everything
 * derived from it has finished (at-least-once): when the pipeline is done with a job, BullMQ
 * completes it; when an element derived from it fails, BullMQ fails it, and the job's
 * `attempts` and `backoff` decide whether it runs again; when the run is torn down (an
 * abort, a `break`, a failure elsewhere), the job goes back to waiting for the next consumer.
 * Consumed with `for await`, a job is completed when the loop asks for the next one; the job
 * in the loop's hand when its body breaks, returns or throws goes back to waiting.
 *
 * Each run starts its own BullMQ `Worker`, which keeps the jobs it holds locked while the
 * pipeline works on them, and checks for jobs whose worker died (their locks expired) and
 * puts them back in the queue. Run the same pipeline in more processes to share a queue's
 * work. The run resolves (or rejects) only after every acknowledgement has been written and
 * the worker has closed.
 *
 * @example
 * ```ts
 * import { jobs } from "@sluice/bullmq";
 *
 * const controller = new AbortController();
 * process.once("SIGTERM", () => controller.abort());
 * await jobs<{ url: string }>("crawl", { connection, prefetch: 32 })
 *   .map((job) => fetchPage(job.data.url), { workers: 32 })
 *   .each(savePage)
 *   .run({ signal: controller.signal });
 * ```
 */
export function jobs<DataType = unknown, NameType extends string = string>(
  queueName: string,
  options: JobSourceOptions,
): Pipeline<Job<DataType, unknown, NameType>> {
  const settings = resolveSettings(queueName, options);
  const held: HeldJobs = new WeakMap();
  // A run's feed is made by the stage's onStart (so its onDone can finish it) and taken by
  // the source factory, which the run calls right after every stage's start, synchronously.
  const starting: JobFeed[] = [];
  const pipeline = source<Job>(() => starting.shift()!, {
    settle: (job, outcome) => {
      const entry = held.get(job);
      return entry?.feed.settle(entry, outcome);
    },
  }).map((job) => job, {
    name: `jobs(${queueName})`,
    onStart: () => {
      const feed = new JobFeed(held, settings);
      starting.push(feed);
      return { feed };
    },
    onDone: ({ feed }) => {
      // A run torn down before its source started never took this feed.
      const index = starting.indexOf(feed);
      if (index >= 0) starting.splice(index, 1);
      return feed.finish();
    },
  });
  return pipeline as unknown as Pipeline<Job<DataType, unknown, NameType>>;
}

function resolveSettings(queueName: string, options: JobSourceOptions): FeedSettings {
  if (typeof queueName !== "string" || queueName === "") {
    throw new OptionsError(`jobs(): queueName must be a non-empty string (received ${JSON.stringify(queueName)})`);
  }
  if (options === null || typeof options !== "object") throw new OptionsError("jobs(): options must be an object with a connection");
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new OptionsError(`jobs(): options.${key} is not an option (options are: ${OPTION_KEYS.join(", ")})`);
  }
  if (options.connection === null || typeof options.connection !== "object") {
    throw new OptionsError("jobs(): options.connection must be ioredis options or an ioredis instance");
  }
  const prefetch = options.prefetch ?? 16;
  if (!Number.isInteger(prefetch) || prefetch < 1) {
    throw new OptionsError(`jobs(): options.prefetch must be an integer >= 1 (received ${String(prefetch)})`);
  }
  const onWorkerError = options.onWorkerError ?? ((error: Error) => console.error(`@sluice/bullmq: the worker of queue ${queueName} reported`, error));
  if (typeof onWorkerError !== "function") throw new OptionsError("jobs(): options.onWorkerError must be a function");
  const connectTimeout = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  // A timer's longest wait bounds it too: setTimeout runs a longer one after 1 ms.
  if (typeof connectTimeout !== "number" || !(connectTimeout > 0 && connectTimeout <= maxTimerDelay)) {
    throw OptionsError.invalid("jobs", ["options", "connectTimeout"], `a number of milliseconds > 0 (at most ${maxTimerDelay})`, connectTimeout);
  }
  return {
    queueName,
    prefetch,
    endWhenDrained: options.endWhenDrained === true,
    workerOptions: { ...options.worker, connection: options.connection },
    onWorkerError,
    connectTimeout,
    address: addressOf(options.connection),
  };
}

/** Where `connection` points, for messages: `host:port`, a socket path, or what an ioredis client was given. */
function addressOf(connection: ConnectionOptions): string {
  const client = connection as { options?: { host?: unknown; port?: unknown; path?: unknown } };
  const given = typeof (connection as { duplicate?: unknown }).duplicate === "function" ? (client.options ?? {}) : (connection as { host?: unknown; port?: unknown; path?: unknown });
  if (typeof given.path === "string") return given.path;
  return `${typeof given.host === "string" ? given.host : "localhost"}:${typeof given.port === "number" ? given.port : 6379}`;
}
