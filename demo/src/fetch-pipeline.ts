import { pipe, type Pipeline, type RunStats } from "@sluice/dsl";
import type { ApiRecord } from "./flaky-server.js";
import { RecordsClient } from "./records-client.js";

/** What happened to the records of one run, read from its final {@link RunStats}. */
export interface Outcomes {
  /** Records fetched. */
  readonly done: number;
  /** Records whose request failed (an HTTP error or a network error). */
  readonly failed: number;
  /** Records whose request took longer than the timeout. */
  readonly timedOut: number;
  /** Fetched records that reached the consumer. */
  readonly delivered: number;
  /** Records with a final outcome. */
  readonly settled: number;
}

/**
 * Reads the outcomes off the stats of a {@link fetchRecords} run: the fetch stage counts the
 * timeouts that onTimeout "skip" dropped, the "ok" filter the failures it dropped and the
 * records it passed on. No counting by hand in `f`.
 */
export function outcomesOf(stats: RunStats | undefined): Outcomes {
  const [fetch, ok] = stats?.stages ?? [];
  const done = ok?.emitted ?? 0;
  const failed = ok?.dropped ?? 0;
  const timedOut = fetch?.skipped ?? 0;
  return { done, failed, timedOut, delivered: stats?.delivered ?? 0, settled: done + failed + timedOut };
}

/** What the fetch stage emits per record: the record, or why there is none. */
type Outcome = Fetched | Failed;
interface Fetched {
  readonly ok: true;
  readonly record: ApiRecord;
}
interface Failed {
  readonly ok: false;
  readonly id: number;
  readonly error: unknown;
}

/** How to fetch. */
export interface FetchOptions {
  readonly baseUrl: string;
  /** Requests in flight at once. */
  readonly workers: number;
  /** Milliseconds one request may take. */
  readonly timeoutMs: number;
}

/**
 * The demo's pipeline: fetch every id with `workers` requests in flight, let a failure fail
 * only its record, drop the failures, and hand the records to the consumer in id order as
 * soon as each one's predecessors are settled. The run's stats count what happened to each.
 */
export function fetchRecords(ids: Iterable<number>, options: FetchOptions): Pipeline<ApiRecord> {
  return pipe(ids)
    .map(
      async (id, ctx): Promise<Outcome> => {
        try {
          return { ok: true, record: await ctx.client.getRecord(id, ctx.signal) };
        } catch (error) {
          // Aborted by the stage's timeout (onTimeout "skip" drops the record, and the stats
          // count it), or by the run being torn down (Ctrl-C): not a failure of the record.
          if (ctx.signal.aborted) throw error;
          return { ok: false, id, error }; // one bad record fails only itself
        }
      },
      {
        name: "fetch",
        workers: options.workers,
        maxsize: options.workers, // ids waiting for a free worker: enough to keep every worker busy
        timeout: options.timeoutMs, // aborts ctx.signal, which cancels the fetch
        onTimeout: "skip", // the default, "error", would end the whole run on the first slow request
        onStart: () => ({ client: new RecordsClient(options.baseUrl) }), // one client per run, shared by all calls
      },
    )
    .filter((outcome): outcome is Fetched => outcome.ok, { name: "ok" }) // a type guard narrows to Pipeline<Fetched>
    .map(({ record }) => record, { name: "record" })
    .ordered();
}
