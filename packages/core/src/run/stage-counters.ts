import type { StageKind } from "../nodes/stage-node.js";
import type { StageStats } from "../run-stats.js";

/**
 * The counters of one stage of a run, for {@link StageStats} (docs/design.md §18). Plain
 * numeric fields that the stage bumps on events it handles anyway, so a run nobody watches
 * pays one integer add per event and allocates nothing; a snapshot reads them only when
 * `onProgress` asks. The stages declare these fields themselves (no extra object per stage
 * per run); they do not inherit them from a base class, because a derived class's
 * construction measurably slowed many small runs (bench E, docs/design.md §18).
 *
 * Identity, true whenever a snapshot is taken (no snapshot runs in the middle of an event):
 * `taken = inFlight + done + skipped + failed + cancelled`. Every exit of an element from a
 * stage's worker slots bumps exactly one of `done`, `skipped`, `failed` or `cancelled`, where
 * the slot count (`inFlight`) goes down. `emitted`, `dropped`, `retried`, `timedOut` and `recovered` are
 * tallies beside the identity.
 */
export interface StageCounters {
  /** Elements taken up (a call of `f` started; a batch element added). */
  taken: number;
  /** Elements finished successfully and gone from the stage. */
  done: number;
  /** Values pushed downstream. */
  emitted: number;
  /** Elements a filter let not pass (also counted in `done`). */
  dropped: number;
  /** Elements dropped after a failure by the stage's policy (`onTimeout: "skip"`, or `onError` other than `"fail"`). */
  skipped: number;
  /** Elements whose own failure failed the run (not failures that arrive once it is closing). */
  failed: number;
  /** Elements taken but abandoned by the run's teardown. */
  cancelled: number;
  /**
   * New attempts of a failed call: bumped as each attempt after the first starts
   * (docs/design.md §16); the element stays in flight between attempts, so the identity
   * above is unchanged.
   */
  retried: number;
  /** Calls (or flatMap steps) that ran past `timeout`, whatever `onTimeout` did next. */
  timedOut: number;
  /** Elements given up on whose `fallback` value was emitted instead (also counted in `done`). */
  recovered: number;

  /** The name the stats show. */
  readonly name: string;
  /** The kind the stats show. */
  readonly statsKind: StageKind | "batch";
  /** Elements waiting in the stage's input queue now. */
  readonly waiting: number;
  /** Elements taken and not finished now. */
  readonly inFlight: number;
  /** Calls allowed in flight now: `workers`, or an adaptive stage's current limit. */
  readonly limit: number;
}

/** A frozen copy of `stage`'s counters now. */
export function snapshotOf(stage: StageCounters): StageStats {
  return Object.freeze({
    name: stage.name,
    kind: stage.statsKind,
    taken: stage.taken,
    waiting: stage.waiting,
    inFlight: stage.inFlight,
    limit: stage.limit,
    done: stage.done,
    emitted: stage.emitted,
    dropped: stage.dropped,
    skipped: stage.skipped,
    failed: stage.failed,
    cancelled: stage.cancelled,
    retried: stage.retried,
    timedOut: stage.timedOut,
    recovered: stage.recovered,
  });
}
