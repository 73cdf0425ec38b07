import { Piscina } from "piscina";
import { OptionsError, map, maxWorkers, resolveStageOptions, type Operator, type StageOptions } from "@sluice/dsl";
import { callOnThread, type CallContext, type Submission } from "./call-on-thread.js";
import { checkTransfer } from "./check-options.js";
import { ThreadError } from "./thread-error.js";
import { followStoppingThreads, loadedThreads, stoppedThreads, stoppingCount } from "./thread-exits.js";
import type { ThreadCallOptions } from "./on-threads.js";
import type { AnyWorkerFunction, ResultOf, TaskOf, WorkerFunction } from "./worker-function.js";

/**
 * Options of the pool that {@link mapOnThreads} creates: piscina's own options, except the
 * ones the stage sets (`filename`, and `minThreads` and `maxThreads`, both `threads`).
 * `name` picks the worker module's export to call; `resourceLimits`, `env`, `workerData`,
 * `execArgv` and the rest are passed as they are.
 *
 * @example
 * ```ts
 * const pool: PoolOptions = { name: "sha256", resourceLimits: { maxOldGenerationSizeMb: 64 } };
 * ```
 */
export type PoolOptions = Omit<NonNullable<ConstructorParameters<typeof Piscina>[0]>, "filename" | "minThreads" | "maxThreads">;

/**
 * Options of {@link mapOnThreads}: the stage options of `map` (`workers`, `maxsize`,
 * `timeout`, `onTimeout`, `name`, `rateLimit`, `retry`, `onError`, ...) except the hooks,
 * which the stage uses for its pool, plus {@link OwnPoolOptions}: the pool's size and options.
 *
 * @example
 * ```ts
 * const options: ThreadStageOptions<Uint8Array> = {
 *   workers: 4,        // calls in flight
 *   threads: 2,        // threads in the pool (default: workers); 2 more calls wait in its queue
 *   timeout: 10_000,   // per call: the thread running a late call is terminated
 *   pool: { name: "sha256" },
 *   transfer: (bytes) => [bytes.buffer],
 * };
 * ```
 */
export type ThreadStageOptions<In> = Omit<StageOptions<{}, In>, "onStart" | "onDone"> & OwnPoolOptions<In>;

/**
 * What {@link mapOnThreads} adds to `map`'s options: the size and options of the pool the
 * stage owns, and what to move to its threads.
 *
 * @example
 * ```ts
 * const own: OwnPoolOptions<Uint8Array> = { threads: 2, pool: { resourceLimits: { maxOldGenerationSizeMb: 64 } } };
 * ```
 */
export interface OwnPoolOptions<In> extends Pick<ThreadCallOptions<In>, "transfer"> {
  /**
   * Threads in the stage's pool: an integer from 1 to `workers`. Default `workers`, one
   * thread per call in flight. Fewer threads than `workers` keep the extra calls queued in
   * the pool, ready for the next free thread; more would never be used, so they are refused.
   */
  readonly threads?: number;
  /** Options of the pool, passed to `new Piscina()`. Default: piscina's. */
  readonly pool?: PoolOptions;
}

/** What the stage's `onStart` puts into every `ctx`. */
interface PoolContext {
  readonly pool: OwnedPool;
}

/**
 * A stage's own pool, and the first error it reported outside any call (an exception thrown
 * by a worker between tasks, which piscina emits as an `error` event).
 */
class OwnedPool {
  readonly piscina: Piscina;
  failure: { error: unknown } | undefined = undefined;

  constructor(options: ConstructorParameters<typeof Piscina>[0]) {
    this.piscina = new Piscina(options);
    // Without a listener an `error` event would be thrown in the main thread.
    this.piscina.on("error", (error: unknown) => {
      this.failure ??= { error };
    });
    followStoppingThreads(this.piscina, true);
  }

  /** Resolves once every thread has loaded the worker module (or exited). */
  loaded(): Promise<void> {
    return loadedThreads(this.piscina);
  }

  /** Destroys the pool and resolves when every thread it ever had has exited. */
  async close(): Promise<void> {
    // First the threads piscina let go of: one that exits after destroy() has finished makes
    // piscina start a replacement, in a pool nobody will destroy again. Then the replacements
    // started meanwhile finish loading (terminating one mid-load can abort Node 20), then
    // destroy(), which waits for the threads still in the pool. Repeated while a thread is left.
    for (let pass = 0; pass < 3; pass++) {
      await stoppedThreads(this.piscina);
      await this.loaded();
      await this.piscina.destroy();
      if (this.piscina.threads.length === 0 && stoppingCount(this.piscina) === 0) return;
    }
  }
}

/**
 * The `map` operator whose calls run on a worker-thread pool of the stage's own: each run
 * creates the pool when the stage starts (its `onStart`) with `threads` threads, and
 * destroys it when the stage ends (its `onDone`), on success, failure and cancellation
 * alike, so no thread outlives the run. Use it for CPU-bound `f` (hashing, parsing,
 * compressing, image work) that would otherwise hold up the event loop.
 *
 * `filename` is the worker module, a `.js` or `.mjs` file Node can load (Node 20 cannot load
 * `.ts`: compile the worker with the rest of your code and point at the output, e.g.
 * `new URL("./hash.worker.js", import.meta.url)`). Its default export (or `pool.name`)
 * is called with each element. Name that function as the type argument and the pipeline's
 * types follow it.
 *
 * `workers` caps the calls in flight, as in any stage; `ctx.signal` reaches the pool, so a
 * `timeout` or a teardown terminates the thread running the call. A failure on a thread
 * fails the run with a {@link ThreadError} wrapping the worker's error.
 *
 * @param filename - the worker module: a path, a `file:` URL string, or a `URL`
 * @param options - `map`'s stage options, and `threads`, `pool`, `transfer`
 * @example
 * ```ts
 * import { pipe } from "@sluice/dsl";
 * import { mapOnThreads } from "@sluice/piscina";
 * import type hash from "./hash.worker.js"; // export default (bytes: Uint8Array) => string
 *
 * const digests = await pipe(chunks).through(
 *   mapOnThreads<typeof hash>(new URL("./hash.worker.js", import.meta.url), { workers: 2, timeout: 5_000 }),
 * ); // string[]; the pool's two threads are gone when the run has settled
 * ```
 */
export function mapOnThreads<F extends WorkerFunction = AnyWorkerFunction>(
  filename: string | URL,
  options?: ThreadStageOptions<TaskOf<F>>,
): Operator<TaskOf<F>, ResultOf<F>> {
  const file = checkFilename(filename);
  if (options !== null && typeof options === "object") {
    for (const hook of HOOKS) {
      if (hook in options) throw OptionsError.notAnOption(METHOD, ["options", hook], [], options[hook as never], "the stage's hooks create and destroy its pool");
    }
  }
  // The stage's options are checked as map() checks them, under this function's name.
  const settings = resolveStageOptions(METHOD, options === undefined ? {} : options, { own: OWN_OPTIONS, without: HOOKS });
  const { threads: threadsOption, pool: poolOptions, transfer, ...stageOptions } = options ?? {};
  const threads = checkThreads(threadsOption, maxWorkers(settings.workers));
  if (poolOptions !== undefined && (poolOptions === null || typeof poolOptions !== "object" || Array.isArray(poolOptions))) {
    throw OptionsError.invalid(METHOD, ["options", "pool"], "an object of piscina options", poolOptions);
  }
  const submission: Submission<TaskOf<F>> = { name: undefined, transfer: checkTransfer(METHOD, transfer) };
  const call = (input: TaskOf<F>, ctx: CallContext & PoolContext): Promise<ResultOf<F>> => {
    const { failure } = ctx.pool;
    if (failure !== undefined) return Promise.reject(new ThreadError(ctx.stage, ctx.index, failure.error, true));
    return callOnThread(ctx.pool.piscina, input, ctx, submission);
  };
  return map(call, {
    ...stageOptions,
    onStart: async (): Promise<PoolContext> => {
      const pool = new OwnedPool({ ...poolOptions, filename: file, minThreads: threads, maxThreads: threads });
      // No call before every thread has loaded the module: a teardown in the first
      // milliseconds would otherwise terminate threads mid-load (see loadedThreads).
      await pool.loaded();
      return { pool };
    },
    onDone: async ({ pool, stage }: PoolContext & { stage: string }) => {
      await pool.close();
      // A thread that failed between calls, after the stage's last call: the run still hears of it.
      if (pool.failure !== undefined) throw new ThreadError(stage, [], pool.failure.error, true);
    },
  });
}

const METHOD = "mapOnThreads";
/** What mapOnThreads takes besides map's options. */
const OWN_OPTIONS = ["threads", "pool", "transfer"] as const satisfies readonly (keyof OwnPoolOptions<unknown>)[];
/** map's options that mapOnThreads sets itself. */
const HOOKS = ["onStart", "onDone"] as const;

function checkFilename(filename: unknown): string {
  if (filename instanceof URL) return filename.href;
  if (typeof filename === "string" && filename !== "") return filename;
  throw OptionsError.invalid(METHOD, ["filename"], "the worker module's path or URL", filename);
}

function checkThreads(threads: unknown, workers: number): number {
  if (threads === undefined) return workers;
  if (typeof threads !== "number" || !Number.isInteger(threads) || threads < 1 || threads > workers) {
    throw OptionsError.invalid(METHOD, ["options", "threads"], `an integer from 1 to workers (${workers})`, threads, "more threads than calls in flight would stay idle");
  }
  return threads;
}
