import type { JobsOptions, Queue } from "bullmq";
import { OptionsError, pathBelowSource, resolveStageOptions, type Context, type Operator, type Pipeline } from "@sluice/dsl";

/**
 * The job an element derives from, as {@link enqueue} needs it to name the job it adds:
 * a BullMQ `Job` has both fields.
 *
 * @example
 * ```ts
 * const origin: JobOrigin = { queueName: "orders", id: "17" };
 * ```
 */
export interface JobOrigin {
  /** The queue the job was taken from. */
  readonly queueName: string;
  /** The job's id in that queue. */
  readonly id?: string | undefined;
}

/**
 * Options of {@link enqueue}.
 *
 * @example
 * ```ts
 * const options: EnqueueOptions<{ job: Job<Order>; parcel: Parcel }, Parcel> = {
 *   name: "ship",
 *   origin: (x) => x.job,
 *   data: (x) => x.parcel,
 * };
 * ```
 */
export interface EnqueueOptions<T, DataType> {
  /** The name of each job added, or a function of the element giving it. */
  readonly name: string | ((value: T) => string);
  /** The source job the element derives from (its id makes the new job's id). */
  readonly origin: (value: T) => JobOrigin;
  /** The data of the job added for an element; default: the element itself. */
  readonly data?: ((value: T) => DataType) | undefined;
  /** Options of every job added (`attempts`, `backoff`, `delay`, ...); the id is set by the sink. */
  readonly jobOptions?: Omit<JobsOptions, "jobId"> | undefined;
  /**
   * Adds in flight at once: an integer >= 1, checked as a stage's `workers`.
   * @default 8
   */
  readonly workers?: number | undefined;
}

/** The `workers` of an enqueue stage that names none: adds are I/O, so more than a stage's one. */
const DEFAULT_WORKERS = 8;

/**
 * A sink stage that adds one job per element to `queue`, with an id made from the source
 * job and the element's place in what derives from it: the source queue, the source job's
 * id, the job name and the element's index path below the source job (`pathBelowSource`:
 * `ctx.index` without the source job's position in this run, which changes when the job is
 * delivered again, nor, after a `batch()`, the batch's position and the job's place in it;
 * `concat` positions and expansion positions are kept). So when a source job runs again
 * (its first attempt failed later on, or its worker died), the elements it gives again get
 * the same ids, and BullMQ, which ignores an add whose id already exists, does not enqueue
 * them twice. Ids stay stable as long as the pipeline derives the same elements in the same
 * order from a job, and the jobs added are kept in Redis (a `removeOnComplete` shorter than
 * a source job's retries reopens the door to duplicates). After a `batch()`, the elements a
 * batch's expansion gives are taken one per job: give elements of one job different names
 * there.
 *
 * The stage is an `each`: the source job settles done once its jobs are added.
 *
 * @example
 * ```ts
 * await jobs<Order>("orders", { connection })
 *   .flatMap((job) => job.data.parcels.map((parcel) => ({ job, parcel })))
 *   .through(enqueue(shipping, { name: "ship", origin: (x) => x.job, data: (x) => x.parcel }))
 *   .run({ signal });
 * ```
 */
export function enqueue<T, DataType = T>(queue: Queue<DataType>, options: EnqueueOptions<T, DataType>): Operator<T, never> {
  // Its workers are a stage's workers, checked as map() checks them under this function's name.
  const { workers } = resolveStageOptions("enqueue", { workers: options.workers ?? DEFAULT_WORKERS });
  if (typeof options.origin !== "function") throw OptionsError.invalid("enqueue", ["options", "origin"], "a function", options.origin);
  const nameOf = typeof options.name === "function" ? options.name : constant(options.name);
  const dataOf = options.data ?? ((value: T) => value as unknown as DataType);
  const jobOptions = options.jobOptions ?? {};
  return (pipeline: Pipeline<T>) =>
    pipeline.each(
      async (value: T, ctx: Context<object>) => {
        const name = nameOf(value);
        const jobId = jobIdFor(options.origin(value), name, pathBelowSource(pipeline, ctx.index));
        await queue.add(name as never, dataOf(value) as never, { ...jobOptions, jobId });
      },
      { workers, name: `enqueue(${queue.name})` },
    );
}

/**
 * The id {@link enqueue} gives the job added for an element: the source queue, the source
 * job's id, the job name and `below`, the element's index path below the source job (what
 * `pathBelowSource` gives), joined by `/`. In the first three, `%`, `/` and `:` are escaped
 * (`%25`, `%2F`, `%3A`), so no two different sources share an id and BullMQ, which refuses
 * custom ids with a `:`, takes every one.
 *
 * @example
 * ```ts
 * jobIdFor({ queueName: "orders", id: "17" }, "ship", [2]); // "orders/17/ship/2"
 * jobIdFor({ queueName: "orders", id: "17" }, "ship/eu", []); // "orders/17/ship%2Feu"
 * ```
 */
export function jobIdFor(origin: JobOrigin, name: string, below: readonly number[]): string {
  if (origin.id === undefined) throw new TypeError(`enqueue(): the origin job of queue ${origin.queueName} has no id`);
  const path = below.length === 0 ? "" : `/${below.join(".")}`;
  return `${escapePart(origin.queueName)}/${escapePart(origin.id)}/${escapePart(name)}${path}`;
}

/** One part of a job id, with the id's separator (and BullMQ's reserved `:`) escaped. */
function escapePart(part: string): string {
  return part.replace(/[%/:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function constant(name: string): () => string {
  if (typeof name !== "string") throw OptionsError.invalid("enqueue", ["options", "name"], "a string or a function", name);
  return () => name;
}
