/**
 * `@sluice/piscina`: sluice stages whose calls run on a [piscina](https://github.com/piscinajs/piscina)
 * worker-thread pool, for CPU-bound work (Pypeln's `pl.process`). `workers` still caps the
 * calls in flight, so backpressure holds; `ctx.signal` reaches the pool, so `timeout` and
 * teardown terminate the thread running a call; a thread's failure reaches the run as a
 * {@link ThreadError}.
 *
 * @example
 * ```ts
 * import { Piscina } from "piscina";
 * import { pipe } from "@sluice/dsl";
 * import { mapOnThreads, onThreads } from "@sluice/piscina";
 * import type hash from "./hash.worker.js";
 *
 * // A pool you own, shared by stages and runs:
 * const pool = new Piscina({ filename: new URL("./hash.worker.js", import.meta.url).href, maxThreads: 2 });
 * const digests = await pipe(chunks).map(onThreads<typeof hash>(pool), { workers: 2 });
 * await pool.destroy();
 *
 * // A pool the stage owns, created and destroyed with each run:
 * const again = await pipe(chunks).through(mapOnThreads<typeof hash>(new URL("./hash.worker.js", import.meta.url), { workers: 2 }));
 * ```
 *
 * @packageDocumentation
 * @module @sluice/piscina
 */
export { mapOnThreads, type OwnPoolOptions, type PoolOptions, type ThreadStageOptions } from "./map-on-threads.js";
export { onThreads, type ThreadCallOptions } from "./on-threads.js";
export { ThreadError } from "./thread-error.js";
export type { AnyWorkerFunction, ResultOf, TaskOf, WorkerFunction } from "./worker-function.js";
