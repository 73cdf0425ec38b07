import { DrainTimeoutError } from "../errors.js";
import type { Run } from "./run.js";

/**
 * Connects a run to its `drain` signal (docs/design.md §22): when it aborts, the sources stop
 * pulling and the rest of the run goes on to a normal end; after `timeout` ms (if given) the
 * run fails with a {@link DrainTimeoutError}, which tears down what is left. The listener and
 * the timer go when the run settles. Made only for a run given `drain`: the `Run` itself
 * holds nothing for it (a field more on `Run` slowed many small runs, docs/design.md §18).
 */
export function watchDrain(run: Run, signal: AbortSignal, timeout: number | undefined): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onDrain = (): void => {
    if (run.closing) return;
    if (timeout !== undefined) timer = setTimeout(() => run.fail(new DrainTimeoutError(timeout)), timeout);
    run.drain();
  };
  const settle = run.onSettle;
  run.onSettle = () => {
    clearTimeout(timer);
    signal.removeEventListener("abort", onDrain);
    settle();
  };
  // Aborted already: the sources learn it before they start, and pull nothing.
  if (signal.aborted) onDrain();
  else signal.addEventListener("abort", onDrain, { once: true });
}
