import { pipe, TimeoutError, type Pipeline } from "@sluice/dsl";
import type { ApiRecord } from "./flaky-server.js";
import { RecordsClient } from "./records-client.js";

/** Counts what happened to each record; the progress display and the summary read it. */
export class Tally {
  /** Records fetched. */
  done = 0;
  /** Records whose request failed (an HTTP error or a network error). */
  failed = 0;
  /** Records whose request took longer than the timeout. */
  timedOut = 0;
  /** Fetched records the consumer has received, in id order. */
  delivered = 0;

  /** Records with a final outcome. */
  get settled(): number {
    return this.done + this.failed + this.timedOut;
  }
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
 * The demo's pipeline: fetch every id with `workers` requests in flight, count failures per
 * record instead of failing the whole job, drop the failures, and hand the records to the
 * consumer in id order as soon as each one's predecessors are settled.
 */
export function fetchRecords(ids: Iterable<number>, options: FetchOptions, tally: Tally): Pipeline<ApiRecord> {
  return pipe(ids)
    .map(
      async (id, ctx): Promise<Outcome> => {
        try {
          const record = await ctx.client.getRecord(id, ctx.signal);
          tally.done++;
          return { ok: true, record };
        } catch (error) {
          if (ctx.signal.aborted) {
            // Aborted by the stage's timeout (the reason is sluice's TimeoutError; onTimeout
            // "skip" drops the record), or by the run being torn down (Ctrl-C): not a failure.
            if (ctx.signal.reason instanceof TimeoutError) tally.timedOut++;
            throw error;
          }
          tally.failed++; // one bad record fails only itself
          return { ok: false, id, error };
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
    .filter((outcome): outcome is Fetched => outcome.ok) // a type guard narrows to Pipeline<Fetched>
    .map(({ record }) => record)
    .ordered();
}
