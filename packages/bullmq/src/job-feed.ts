import { Queue, WaitingError, Worker, type Job, type WorkerOptions } from "bullmq";
import type { SourceOutcome } from "@sluice/dsl";
import { ConnectionError } from "./connection-error.js";

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
  /** How long the worker (and the drain check's queue) may take to connect, in ms. */
  readonly connectTimeout: number;
  /** Where Redis is, for the {@link ConnectionError}. */
  readonly address: string;
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
 * The worker runs only once its connections are ready: a Redis not reached within
 * `connectTimeout` fails the run with a {@link ConnectionError} (through `next()`), and the
 * connection's errors meanwhile are kept for its `cause` rather than reported, one per retry.
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
  #waitingFailed: ((error: unknown) => void) | null = null;
  /** The connections are ready (errors are reported from then on). */
  #connected = false;
  /** The last error of a connection not yet ready: the cause of a {@link ConnectionError}. */
  #connectError: unknown = undefined;
  /** The run must fail with this (Redis not reached in time); given to the next `next()`. */
  #failure: ConnectionError | null = null;
  #connectTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /**
   * Resolves once connecting has come to rest: ready, failed once (no socket open while
   * ioredis waits to retry), or timed out. Closing a connection mid-handshake makes ioredis
   * leave a 2 s timer behind, so `#stop()` closes only after this.
   */
  readonly #atRest: Promise<void>;
  #rest: () => void = () => undefined;
  /** The worker's `run()`, once started: it ends after `close()`. */
  #running: Promise<void> | undefined = undefined;
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
    // Not autorun: the worker starts once connected, and never when the run ended first.
    this.#worker = new Worker(settings.queueName, (job, token) => this.#process(job, token), {
      ...settings.workerOptions,
      concurrency: settings.prefetch,
      autorun: false,
    });
    const onError = (error: Error) => this.#onError(error);
    this.#worker.on("error", onError);
    const prefix = settings.workerOptions.prefix;
    this.#queue = settings.endWhenDrained
      ? new Queue(settings.queueName, { connection: settings.workerOptions.connection, ...(prefix === undefined ? {} : { prefix }) })
      : null;
    this.#queue?.on("error", onError);
    if (settings.endWhenDrained) {
      this.#worker.on("active", () => {
        this.#fetched++;
      });
      this.#worker.on("drained", () => {
        this.#drained = true;
        this.#wake();
      });
    }
    this.#atRest = new Promise((resolve) => (this.#rest = resolve));
    this.#connect();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Job>> {
    const held = this.#buffer.shift();
    if (held !== undefined) return Promise.resolve({ done: false, value: held.job });
    const failure = this.#failure;
    if (failure !== null) {
      this.#failure = null;
      return Promise.reject(failure);
    }
    if (this.#stopping) return this.#end();
    return new Promise((resolve, reject) => {
      this.#waiting = resolve;
      this.#waitingFailed = reject;
      // The worker may have drained while nothing was waiting.
      this.#wake();
    });
  }

  /**
   * The run is being torn down, or drained (the `drain` run option): stop taking jobs and
   * release those not handed out; the jobs handed out settle through `settle` (`"done"` as
   * they finish when draining), and the run's `finish()` closes the worker after them.
   */
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

  /** Starts the worker once its connections (and the drain check's) are ready, or fails the run after `connectTimeout`. */
  #connect(): void {
    const { connectTimeout } = this.#settings;
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      this.#rest();
      if (this.#connected || this.#stopping) return;
      this.#fail(new ConnectionError(this.#settings.queueName, this.#settings.address, connectTimeout, this.#connectError));
    }, connectTimeout);
    Promise.all([this.#worker.waitUntilReady(), this.#queue?.waitUntilReady()]).then(
      () => {
        clearTimeout(this.#connectTimer);
        this.#connectTimer = undefined;
        this.#rest();
        if (this.#stopping || this.#failure !== null) return;
        this.#connected = true;
        this.#running = this.#worker.run().catch((error: unknown) => this.#settings.onWorkerError(asError(error)));
      },
      // Closed before it was ready (the run ended or failed first): nothing to start.
      () => undefined,
    );
  }

  /** A connection's error: kept while connecting (ioredis retries several times a second), reported after. */
  #onError(error: Error): void {
    if (this.#connected) {
      this.#settings.onWorkerError(error);
    } else {
      this.#connectError = error;
      this.#rest();
    }
  }

  /** The run must fail with `error`: the waiting `next()` rejects, or the next one. */
  #fail(error: ConnectionError): void {
    const reject = this.#waitingFailed;
    if (reject !== null) {
      this.#waiting = null;
      this.#waitingFailed = null;
      reject(error);
    } else {
      this.#failure = error;
    }
  }

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
        this.#waitingFailed = null;
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
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    // Closing stops fetching at once, and resolves once every active job (each held until
    // it settles, its lock renewed meanwhile) has been acknowledged and the connections closed.
    const queue = this.#queue;
    const worker = this.#worker;
    this.#closed = this.#atRest
      .then(() => Promise.all([worker.close(), queue?.close(), this.#running]))
      .then(
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
      this.#waitingFailed = null;
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
    this.#waitingFailed = null;
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
