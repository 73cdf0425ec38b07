import type { TransferListItem } from "node:worker_threads";
import type { Piscina } from "piscina";
import { OptionsError, type EngineContext } from "@sluice/dsl";
import { callOnThread, type Submission } from "./call-on-thread.js";
import { checkTransfer } from "./check-options.js";
import { followStoppingThreads } from "./thread-exits.js";
import type { AnyWorkerFunction, ResultOf, TaskOf, WorkerFunction } from "./worker-function.js";

/**
 * Options of {@link onThreads}: which export of the worker module to call, and what to move
 * to the thread instead of copying it.
 *
 * @example
 * ```ts
 * const options: ThreadCallOptions<Uint8Array> = {
 *   name: "sha256",                  // the worker module's `export function sha256`
 *   transfer: (bytes) => [bytes.buffer], // move the bytes: the main thread's copy is detached
 * };
 * ```
 */
export interface ThreadCallOptions<In> {
  /** The worker module's export to call (piscina's `name`). Default: the pool's `name` option, `"default"` unless set. */
  readonly name?: string;
  /**
   * What to move to the thread instead of copying: returns the `ArrayBuffer`s (or
   * `MessagePort`s) inside an input, passed to piscina as its `transferList`. A moved buffer
   * is detached in the main thread: the input cannot be used again after the call, not even
   * by a retry. Default: everything is copied.
   */
  readonly transfer?: (input: In) => readonly TransferListItem[];
}

/**
 * A stage function (for `map`, and for `filter`, `flatMap` or `each` when the worker's result
 * suits them) that runs each call on `pool`, a piscina pool you own: make it once, share it
 * between stages and runs, and `destroy()` it when the program is done with it.
 *
 * The stage's `workers` stays the cap on calls in flight: calls beyond the pool's threads
 * wait in its queue, so give the pool as many threads as the stages using it have `workers`
 * in all. `ctx.signal` reaches `pool.run()`: a `timeout`, a failure elsewhere, a `break` or
 * the caller's abort removes a queued call, or terminates the thread running it (piscina
 * starts a new one). A failure on the thread rejects with a {@link ThreadError}.
 *
 * Name the worker's function as the type argument (`typeof hash` after
 * `import type hash from "./hash.worker.js"`) and the pipeline's types follow it; without
 * it, any element is accepted and the result is `unknown`.
 *
 * @param pool - a `Piscina` whose `filename` is the worker module
 * @param options - `name` (the export to call), `transfer` (what to move instead of copy)
 * @example
 * ```ts
 * import { Piscina } from "piscina";
 * import { pipe } from "@sluice/dsl";
 * import { onThreads } from "@sluice/piscina";
 * import type hash from "./hash.worker.js"; // export default (bytes: Uint8Array) => string
 *
 * const pool = new Piscina({ filename: new URL("./hash.worker.js", import.meta.url).href, maxThreads: 2 });
 * const digests = await pipe(chunks).map(onThreads<typeof hash>(pool), { workers: 2 }); // string[]
 * await pool.destroy();
 * ```
 */
export function onThreads<F extends WorkerFunction = AnyWorkerFunction>(
  pool: Piscina,
  options?: ThreadCallOptions<TaskOf<F>>,
): (input: TaskOf<F>, ctx: EngineContext) => Promise<ResultOf<F>> {
  if (!isPool(pool)) throw OptionsError.invalid("onThreads", ["pool"], "a piscina pool", pool);
  const submission = checkCallOptions<TaskOf<F>>(options);
  followStoppingThreads(pool);
  return (input, ctx) => callOnThread<TaskOf<F>, ResultOf<F>>(pool, input, ctx, submission);
}

/** Whether `value` looks like a piscina pool: what the stage uses of one. */
function isPool(value: unknown): value is Piscina {
  if (value === null || typeof value !== "object") return false;
  const pool = value as { run?: unknown; on?: unknown };
  return typeof pool.run === "function" && typeof pool.on === "function";
}

/** The options of `onThreads`, checked, as a submission. */
function checkCallOptions<In>(options: ThreadCallOptions<In> | undefined): Submission<In> {
  if (options === undefined) return { name: undefined, transfer: undefined };
  if (options === null || typeof options !== "object" || Array.isArray(options)) throw OptionsError.invalid("onThreads", ["options"], "an object", options);
  for (const key of Object.keys(options)) {
    if (key !== "name" && key !== "transfer") throw OptionsError.notAnOption("onThreads", ["options", key], ["name", "transfer"], options[key as never]);
  }
  const { name, transfer } = options;
  if (name !== undefined && (typeof name !== "string" || name === "")) throw OptionsError.invalid("onThreads", ["options", "name"], "a non-empty string", name);
  return { name, transfer: checkTransfer<In>("onThreads", transfer) };
}
