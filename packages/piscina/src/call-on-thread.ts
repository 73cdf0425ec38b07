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

/** The worker module every call runs through (`call-guard.cts`), next to this file once built. */
const CALL_GUARD = new URL("./call-guard.cjs", import.meta.url).href;

/** What `call-guard.cts` throws for a task that threw `null` or `undefined` (the two must agree). */
const THREW_NOTHING = /^@sluice\/piscina: the worker function threw (null|undefined)$/;

/** What a guarded call sends to the thread: the pool's worker module, the export to call, the task. */
class Envelope {
  constructor(
    readonly filename: string,
    readonly name: string,
    readonly task: unknown,
  ) {}
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
 * The call runs through `call-guard.cjs` on the thread, which calls the pool's module: piscina
 * would take a task that throws `null` for one that returns `null`; the guard makes it an
 * error, and this makes it the {@link ThreadError} of a task that threw `null`.
 *
 * After an abort the call settles only once the thread piscina terminated for it has exited
 * (the pool must be followed: `followStoppingThreads`), so a run that has settled has no
 * thread still working for it.
 */
export async function callOnThread<In, Out>(pool: Piscina, input: In, ctx: CallContext, submission: Submission<In>): Promise<Out> {
  const { signal } = ctx;
  const options: { signal: AbortSignal; name?: string; filename?: string; transferList?: TransferListItem[] } = { signal };
  const { filename, name } = pool.options;
  let task: unknown = input;
  if (typeof filename === "string") {
    task = new Envelope(filename, submission.name ?? name, input);
    options.filename = CALL_GUARD;
    options.name = "default";
  } else if (submission.name !== undefined) {
    // No module to guard: piscina refuses the call itself.
    options.name = submission.name;
  }
  if (submission.transfer !== undefined) options.transferList = [...submission.transfer(input)];
  try {
    return (await pool.run(task, options)) as Out;
  } catch (error) {
    if (signal.aborted) {
      await stoppedThreads(pool);
      throw signal.reason;
    }
    if (error instanceof Error && REFUSALS.has(error.message)) throw refusal(pool, ctx.stage, error);
    const nothing = error instanceof Error ? THREW_NOTHING.exec(error.message) : null;
    if (nothing !== null) throw new ThreadError(ctx.stage, ctx.index, nothing[1] === "null" ? null : undefined, false);
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
