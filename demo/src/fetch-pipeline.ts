import { TimeoutError, adaptiveDefaults, pipe, type Pipeline, type RunStats } from "@sluice/dsl";
import type { ApiRecord } from "./flaky-server.js";
import { HttpError, RecordsClient } from "./records-client.js";

/** A fetched record and the attempt that fetched it (`ctx.attempt`: 2 or more after a retry). */
export interface FetchedRecord {
  readonly record: ApiRecord;
  readonly attempt: number;
}

/** What happened to the records of one run, read from its final {@link RunStats}. */
export interface Outcomes {
  /** Records fetched. */
  readonly done: number;
  /** Retries made in all (attempts after a record's first). */
  readonly retries: number;
  /** Records whose request still failed after the retries (or could not be retried), skipped by `onError`. */
  readonly failed: number;
  /** Records whose request took longer than the timeout, skipped by `onTimeout`. */
  readonly timedOut: number;
  /** Fetched records that reached the consumer. */
  readonly delivered: number;
  /** Records with a final outcome. */
  readonly settled: number;
}

/**
 * Reads the outcomes off the stats of a {@link fetchRecords} run, all from its "fetch" stage:
 * `skipped` counts what `onError` and `onTimeout` dropped, `timedOut` the timeouts among them.
 */
export function outcomesOf(stats: RunStats | undefined): Outcomes {
  const fetch = stats?.stages[0];
  const done = fetch?.done ?? 0;
  const timedOut = fetch?.timedOut ?? 0;
  const failed = (fetch?.skipped ?? 0) - timedOut;
  return { done, retries: fetch?.retried ?? 0, failed, timedOut, delivered: stats?.delivered ?? 0, settled: done + failed + timedOut };
}

/** How to fetch. */
export interface FetchOptions {
  readonly baseUrl: string;
  /** Requests in flight at once, or `"auto"` to find how many the API takes. */
  readonly workers: number | "auto";
  /** Milliseconds one request may take. */
  readonly timeoutMs: number;
  /** Retries after a record's first request fails. */
  readonly retries: number;
}

/** A 5xx, a 429 or a network error may pass; another 4xx will not get better by asking again. */
const worthRetrying = (error: unknown): boolean => !(error instanceof HttpError) || error.status >= 500 || error.status === 429;

/** A 429 Too Many Requests, or a request past its timeout. */
const isOverload = (error: unknown): boolean => (error instanceof HttpError && error.status === 429) || error instanceof TimeoutError;

/**
 * The demo's pipeline: fetch every id with `workers` requests in flight (with `"auto"`, as
 * many as the API takes: a 429 or 503, an `HttpError` with that `status`, lowers the limit,
 * as does a rising latency), retry a failed
 * request with back-off, drop a record that still fails (or times out) instead of failing the
 * whole job, and hand the records to the consumer in id order as soon as each one's
 * predecessors are settled. The run's stats count what happened to each record.
 */
export function fetchRecords(ids: Iterable<number>, options: FetchOptions): Pipeline<FetchedRecord> {
  return pipe(ids)
    .map(async (id, ctx): Promise<FetchedRecord> => ({ record: await ctx.client.getRecord(id, ctx.signal), attempt: ctx.attempt }), {
      name: "fetch",
      workers: options.workers,
      // ids waiting for a free worker: enough to keep every worker busy (for "auto", as many as it may ever allow)
      maxsize: options.workers === "auto" ? adaptiveDefaults.max : options.workers,
      timeout: options.timeoutMs, // aborts ctx.signal, which cancels the fetch
      onTimeout: "skip", // a record that never answers is dropped (the default, "error", would end the run)
      retry: { retries: options.retries, minDelay: 100, shouldRetry: worthRetrying }, // the slot waits out the back-off
      // For "auto": only a 429 (and a request that never answers) says the API is overloaded; this API's 503s are random.
      isPushback: isOverload,
      onError: "skip", // a record that still fails is dropped; the run goes on
      onStart: () => ({ client: new RecordsClient(options.baseUrl) }), // one client per run, shared by all calls
    })
    .ordered();
}
