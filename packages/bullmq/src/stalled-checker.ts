import type { Worker } from "bullmq";

/** The part of a BullMQ 5 `Worker`'s private state that its stalled-job checker keeps. */
interface StalledCheckerState {
  stalledCheckerRunning?: unknown;
  stalledCheckStopper?: (() => void) | undefined;
}

/** How long {@link stopStalledChecker} waits for a check that was in flight, at most. */
const STOP_LIMIT_MS = 5_000;

/**
 * Ends the stalled-job checker of a closed `worker`. BullMQ's `close()` stops the checker's
 * timer only when the checker is already waiting on it: when a check is in flight (a run torn
 * down while its worker starts), the checker arms a `stalledInterval` timer (30 s by
 * default) after `close()` has resolved, which would outlive the run. The feed mostly avoids
 * that window (it runs the worker only once connected, and closes only connections at rest:
 * then a check in flight answers before `close()` ends); this is the backstop for the rest:
 * it waits for such a check to end and stops the timer it arms. Reads private fields,
 * guarded: on a BullMQ without them it does nothing.
 */
export async function stopStalledChecker(worker: Worker): Promise<void> {
  const state = worker as unknown as StalledCheckerState;
  const deadline = Date.now() + STOP_LIMIT_MS;
  while (state.stalledCheckerRunning === true && Date.now() < deadline) {
    state.stalledCheckStopper?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}
