import { Queue, WaitingError, Worker, type Job, type WorkerOptions } from "bullmq";
import type { SourceOutcome } from "@sluice/dsl";

/** A job the worker handed over, with what settles it in BullMQ. */
class Held {
  constructor(
    readonly feed: JobFeed,
    readonly job: Job,
    readonly token: string | undefined,
    readonly resolve: () => void,
    readonly reject: (error: Error) => void,
  ) {}
}

/** Finds the job's {@link Held} from the element `settle` receives (the job object itself). */
export type HeldJobs = WeakMap<Job, Held>;

/** What a feed needs to create its worker. */
export interface FeedSettings {
  readonly queueName: string;
  readonly prefetch: number;
  readonly endWhenDrained: boolean;
  readonly workerOptions: WorkerOptions;
  readonly onWorkerError: (error: Error) => void;
}

/**
 * One run's jobs: a BullMQ `Worker` whose processor hands each job to the pipeline and
 * returns a promise that the job's settlement resolves (done: BullMQ completes it),
 * rejects (failed: BullMQ fails it and applies the job's attempts), or rejects with
 * BullMQ's `WaitingError` after moving the job back to waiting (released). So the worker's
 * own machinery keeps each job locked (lock renewal) while the pipeline works on it, and its
 * stalled-job checks recover the jobs of a process that died. The worker's `concurrency`
 * is the prefetch: at most that many jobs are held by this run at once.
 *
 * As an async iterator it yields the jobs in the order the worker took them. `finish()`
 * (the run is ending) stops taking jobs, releases those not yet handed out, and closes the
 * worker once every held job has settled: the promise of the last settlement, or of
 * `finish()` itself when none is open, resolves when the worker has closed, so the run does
 * not settle before its acknowledgements are written and its connections are closed.
 */
export class JobFeed implements AsyncIterableIterator<Job> {
  readonly #held: HeldJobs;
  readonly #settings: FeedSettings;
  readonly #worker: Worker;
  /** Jobs handed over by the worker, not yet given to the pipeline. */
  readonly #buffer: Held[] = [];
  /** A `next()` waiting for a job. */
  #waiting: ((result: IteratorResult<Job>) => void) | null = null;
  /** Jobs handed over by the worker and not yet settled (buffered ones included). */
  #open = 0;
  /** The worker found the queue empty since the last job it took (`endWhenDrained` only). */
  #drained = false;
  /** Jobs the worker fetched (its "active" event) and jobs that reached the processor. */
  #fetched = 0;
  #arrived = 0;
  /** A count of the queue's jobs is being taken to confirm `#drained`. */
  #checking = false;
  /** The next count, while jobs are left that may go to another consumer or wait for a retry. */
  #recheck: ReturnType<typeof setTimeout> | undefined = undefined;
  /** For that count (`endWhenDrained` only), connected from the start so the end is not delayed. */
  readonly #queue: Queue | null;
  #stopping = false;
  #closed: Promise<void> | null = null;

  constructor(held: HeldJobs, settings: FeedSettings) {
    this.#held = held;
    this.#settings = settings;
    this.#worker = new Worker(settings.queueName, (job, token) => this.#process(job, token), {
      ...settings.workerOptions,
      concurrency: settings.prefetch,
      autorun: true,
    });
    this.#worker.on("error", settings.onWorkerError);
    const prefix = settings.workerOptions.prefix;
    this.#queue = settings.endWhenDrained
      ? new Queue(settings.queueName, { connection: settings.workerOptions.connection, ...(prefix === undefined ? {} : { prefix }) })
      : null;
    this.#queue?.on("error", settings.onWorkerError);
    if (settings.endWhenDrained) {
      this.#worker.on("active", () => {
        this.#fetched++;
      });
      this.#worker.on("drained", () => {
        this.#drained = true;
        this.#wake();
      });
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Job>> {
    const held = this.#buffer.shift();
    if (held !== undefined) return Promise.resolve({ done: false, value: held.job });
    if (this.#stopping) return this.#end();
    return new Promise((resolve) => {
      this.#waiting = resolve;
      // The worker may have drained while nothing was waiting.
      this.#wake();
    });
  }

  /** The run is being torn down: stop taking jobs (the run's `finish()` closes the worker). */
  async return(): Promise<IteratorResult<Job>> {
    this.#stop();
    return { done: true, value: undefined };
  }

  /**
   * The run is ending: stop taking jobs, release those not handed out, and resolve once the
   * worker has closed; when jobs are still open, their last settlement waits for that instead.
   */
  finish(): Promise<void> | undefined {
    this.#stop();
    return this.#open === 0 ? this.#close() : undefined;
  }

  /** Acknowledges `held`'s job in BullMQ as `outcome` says. */
  settle(held: Held, outcome: SourceOutcome): Promise<void> | undefined {
    this.#held.delete(held.job);
    let moved: Promise<void> | undefined;
    switch (outcome.status) {
      case "done":
        held.resolve();
        break;
      case "failed":
        held.reject(asError(outcome.error));
        break;
      case "released":
        moved = this.#release(held);
        break;
    }
    this.#open--;
    // With endWhenDrained, the last open job of a drained queue ends the data.
    this.#wake();
    if (!this.#stopping || this.#open > 0) return moved;
    return moved === undefined ? this.#close() : moved.then(() => this.#close());
  }

  // ---- the worker's side -------------------------------------------------------------

  #process(job: Job, token: string | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const held = new Held(this, job, token, resolve, reject);
      if (this.#stopping) {
        // Taken while the run was ending: straight back to waiting.
        void this.#release(held);
        return;
      }
      this.#open++;
      this.#arrived++;
      this.#held.set(job, held);
      const waiting = this.#waiting;
      if (waiting !== null) {
        this.#waiting = null;
        waiting({ done: false, value: job });
      } else {
        this.#buffer.push(held);
      }
    });
  }

  /** Moves the job back to waiting, then tells the worker so (it then leaves the job alone). */
  async #release(held: Held): Promise<void> {
    try {
      await held.job.moveToWait(held.token);
    } catch (error) {
      // The lock was lost (the job stalled and is someone else's now): nothing to give back.
      this.#settings.onWorkerError(asError(error));
    }
    held.reject(new WaitingError());
  }

  #stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#recheck);
    // Closing stops fetching at once, and resolves once every active job (each held until
    // it settles, its lock renewed meanwhile) has been acknowledged and the connections closed.
    const queue = this.#queue;
    this.#closed = Promise.all([this.#worker.close(), queue?.close()]).then(
      () => undefined,
      (error: unknown) => this.#settings.onWorkerError(asError(error)),
    );
    for (const held of this.#buffer.splice(0)) {
      this.#held.delete(held.job);
      this.#open--;
      void this.#release(held);
    }
    this.#wake();
  }

  /** Answers a waiting `next()` with the end when the feed stops or the queue is confirmed drained. */
  #wake(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    if (this.#stopping) {
      this.#waiting = null;
      waiting({ done: true, value: undefined });
    } else if (this.#idle() && !this.#checking && this.#recheck === undefined) {
      void this.#confirmDrained();
    }
  }

  /** The worker said "drained", and no job is held or on its way from a fetch to the processor. */
  #idle(): boolean {
    return this.#drained && this.#open === 0 && this.#fetched === this.#arrived;
  }

  /**
   * The worker's "drained" can come from one fetch while another brings a job, and stays set
   * after it: the end of the data is decided only once Redis says no job waits (delayed
   * retries included) and nothing is on its way.
   */
  async #confirmDrained(): Promise<void> {
    this.#checking = true;
    let left: number;
    try {
      left = await this.#queue!.getJobCountByTypes("waiting", "prioritized", "delayed");
    } catch (error) {
      this.#settings.onWorkerError(asError(error));
      left = 1;
    } finally {
      this.#checking = false;
    }
    if (left > 0) {
      // Jobs left: this worker may take them (the count then waits for them to settle), or
      // another consumer may, or they wait for a later attempt; the worker need not say
      // "drained" again, so look again shortly.
      this.#recheck = setTimeout(() => {
        this.#recheck = undefined;
        this.#wake();
      }, RECHECK_MS);
      return;
    }
    const waiting = this.#waiting;
    if (waiting === null || !this.#idle() || this.#stopping) return;
    this.#waiting = null;
    this.#stop();
    waiting({ done: true, value: undefined });
  }

  /** The end of the data: nothing more is taken. */
  #end(): Promise<IteratorResult<Job>> {
    this.#stop();
    return Promise.resolve({ done: true, value: undefined });
  }

  /** The worker's close, begun by `#stop()`. */
  #close(): Promise<void> {
    return this.#closed!;
  }
}

/** How long `endWhenDrained` waits before it counts the queue's jobs again. */
const RECHECK_MS = 250;

/** BullMQ records an `Error`'s message and stack; anything else thrown is wrapped. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}
