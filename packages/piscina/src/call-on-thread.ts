import type { TransferListItem } from "node:worker_threads";
import type { Piscina } from "piscina";
import { OptionsError, type EngineContext } from "@sluice/dsl";
import { ThreadError, isThreadStop } from "./thread-error.js";
import { stoppedThreads } from "./thread-exits.js";

/** What a call on a thread needs of its `ctx`. */
export type CallContext = Pick<EngineContext, "signal" | "index" | "stage">;

/** How a stage's calls are submitted: the export to call, and what to move instead of copy. */
export interface Submission<In> {
  readonly name: string | undefined;
  readonly transfer: ((input: In) => readonly TransferListItem[]) | undefined;
}

// piscina's messages when its queue is bounded (maxQueue) and full: a sizing mistake to explain.
const REFUSALS = new Set(["Task queue is at limit", "No task queue available and all Workers are busy"]);

/**
 * Runs one call of a stage on `pool`: `ctx.signal` goes to `pool.run`, so a timeout or a
 * teardown removes a queued task or terminates the thread running it. A rejection becomes
 * the error the run should see: the signal's reason after an abort (what every other
 * signal-aware `f` rejects with), a {@link ThreadError} for the thread's own failure, an
 * `OptionsError` when a bounded pool queue refuses the task.
 *
 * After an abort the call settles only once the thread piscina terminated for it has exited
 * (the pool must be followed: `followStoppingThreads`), so a run that has settled has no
 * thread still working for it.
 */
export async function callOnThread<In, Out>(pool: Piscina, input: In, ctx: CallContext, submission: Submission<In>): Promise<Out> {
  const { signal } = ctx;
  const options: { signal: AbortSignal; name?: string; transferList?: TransferListItem[] } = { signal };
  if (submission.name !== undefined) options.name = submission.name;
  if (submission.transfer !== undefined) options.transferList = [...submission.transfer(input)];
  try {
    return (await pool.run(input, options)) as Out;
  } catch (error) {
    if (signal.aborted) {
      await stoppedThreads(pool);
      throw signal.reason;
    }
    if (error instanceof Error && REFUSALS.has(error.message)) throw refusal(pool, ctx.stage, error);
    throw new ThreadError(ctx.stage, ctx.index, error, isThreadStop(error));
  }
}

function refusal(pool: Piscina, stage: string, error: Error): OptionsError {
  const { maxThreads, concurrentTasksPerWorker, maxQueue } = pool.options;
  return new OptionsError(
    `${stage}: the piscina pool refused a call (${error.message}): it takes ${maxThreads} thread(s) x ${concurrentTasksPerWorker} task(s) plus ${maxQueue} queued, ` +
      "fewer than the calls in flight; leave the pool's maxQueue at its default (the stage's workers already bound the queue) or lower workers",
    { cause: error },
  );
}
