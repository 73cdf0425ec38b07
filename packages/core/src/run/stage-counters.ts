import type { StageKind } from "../nodes/stage-node.js";
import type { StageStats } from "../run-stats.js";

/**
 * The counters of one stage of a run, for {@link StageStats} (docs/design.md §18). Plain
 * numeric fields that the stage bumps on events it handles anyway, so a run nobody watches
 * pays one integer add per event and allocates nothing; a snapshot reads them only when
 * `onProgress` asks. The stages extend this class (no extra object per stage per run).
 *
 * Identity, true whenever a snapshot is taken (no snapshot runs in the middle of an event):
 * `taken = inFlight + done + skipped + failed + cancelled`. Every exit of an element from a
 * stage's worker slots bumps exactly one of `done`, `skipped`, `failed` or `cancelled`, where
 * the slot count (`inFlight`) goes down. `emitted`, `dropped`, `retried` and `timedOut` are
 * tallies beside the identity.
 */
export abstract class StageCounters {
  /** Elements taken up (a call of `f` started; a batch element added). */
  taken = 0;
  /** Elements finished successfully and gone from the stage. */
  done = 0;
  /** Values pushed downstream. */
  emitted = 0;
  /** Elements a filter let not pass (also counted in `done`). */
  dropped = 0;
  /** Elements dropped after a failure by the stage's policy (`onTimeout: "skip"`, or `onError` other than `"fail"`). */
  skipped = 0;
  /** Elements whose own failure failed the run (not failures that arrive once it is closing). */
  failed = 0;
  /** Elements taken but abandoned by the run's teardown. */
  cancelled = 0;
  /**
   * New attempts of a failed call: bumped as each attempt after the first starts
   * (docs/design.md §16); the element stays in flight between attempts, so the identity
   * above is unchanged.
   */
  retried = 0;
  /** Calls (or flatMap steps) that ran past `timeout`, whatever `onTimeout` did next. */
  timedOut = 0;

  /** The name the stats show. */
  abstract readonly name: string;
  /** The kind the stats show. */
  abstract get statsKind(): StageKind | "batch";
  /** Elements waiting in the stage's input queue now. */
  abstract get waiting(): number;
  /** Elements taken and not finished now. */
  abstract get inFlight(): number;

  /** A frozen copy of the counters now. */
  snapshot(): StageStats {
    return Object.freeze({
      name: this.name,
      kind: this.statsKind,
      taken: this.taken,
      waiting: this.waiting,
      inFlight: this.inFlight,
      done: this.done,
      emitted: this.emitted,
      dropped: this.dropped,
      skipped: this.skipped,
      failed: this.failed,
      cancelled: this.cancelled,
      retried: this.retried,
      timedOut: this.timedOut,
    });
  }
}
