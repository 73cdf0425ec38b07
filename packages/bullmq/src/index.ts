/**
 * `@sluice/bullmq`: sluice pipelines on [BullMQ](https://docs.bullmq.io) queues (Redis).
 * {@link jobs} is a durable source whose jobs are acknowledged through sluice's source
 * settlement (done: completed, failed: failed with BullMQ's attempts, released: back to
 * waiting); {@link enqueue} is a sink that adds jobs with idempotent ids. Run the same
 * pipeline in several processes to share a queue's work.
 *
 * @example
 * ```ts
 * import { jobs } from "@sluice/bullmq";
 *
 * await jobs<{ n: number }>("squares", { connection: { host: "127.0.0.1", port: 6379 } })
 *   .map((job) => job.data.n ** 2, { workers: 8 })
 *   .each((square) => console.log(square))
 *   .run({ signal });
 * ```
 *
 * @packageDocumentation
 * @module @sluice/bullmq
 */
export { jobs, type JobSourceOptions } from "./jobs.js";
export { ConnectionError } from "./connection-error.js";
export { enqueue, jobIdFor, type EnqueueOptions, type JobOrigin } from "./enqueue.js";
