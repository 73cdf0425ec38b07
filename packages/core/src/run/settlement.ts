import type { Item } from "./item.js";
import { Run } from "./run.js";
import { anchorShape } from "../shape-anchors.js";
import type { Settle, SourceOutcome } from "../nodes/source-outcome.js";
import type { Watermark } from "./watermark.js";

const DONE: SourceOutcome = Object.freeze({ status: "done" });

/**
 * One reference count per source element of a source that settles (docs/design.md §17).
 * Every item that derives from the element holds one reference in `item.claim`: a fan-out
 * clone or a flatMap child adds one, an item that reaches the consumer or is dropped gives
 * its own back. A batch's item holds a group claim whose members are the claims of its
 * elements. At zero the element settles, through its ledger, exactly once.
 */
export class Claim {
  /** References held by items, plus the one being created. */
  open = 1;
  /** Whether a descendant failed: the outcome is then `"failed"` with `error`. */
  failed = false;
  error: unknown = undefined;
  /** What the source's `position` said of the element, under a checkpoint (docs/design.md §23). */
  position: unknown = undefined;

  constructor(
    /** The ledger of the source element; `null` for a batch's group claim. */
    readonly ledger: Ledger | null,
    /** The source element (what `settle` receives). */
    readonly element: unknown,
    /** For a batch's group claim: the claims of the batch's elements. */
    readonly members: Claim[] | null,
  ) {}

  /** One more item refers to this claim. */
  retain(): void {
    this.open++;
  }

  /** A descendant failed: the element's outcome will be `"failed"` (the first error counts). */
  markFailed(error: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.error = error;
    }
    const members = this.members;
    if (members !== null) for (const member of members) member.markFailed(error);
  }

  /** One item gave its reference back; at zero the element (or each member) settles. */
  release(): void {
    if (--this.open > 0) return;
    const members = this.members;
    if (members !== null) for (const member of members) member.release();
    else this.ledger!.settled(this);
  }
}

/** `item` reached the consumer or was dropped: it gives back its reference to its element. */
export function settleDone(item: Item): void {
  const claim = item.claim!;
  item.claim = null;
  claim.release();
}

/**
 * The entry point for "this element failed": the element (each element of a batch) will
 * settle as `"failed"` with `error`, and `item` gives back its reference, so it must not
 * be settled again (its `claim` is cleared). Call it when an element is skipped, collected
 * or handled after a failure of `f` and the run goes on, and before the run fails because
 * of it. Does nothing for an item whose source does not settle.
 */
export function settleFailed(item: Item, error: unknown): void {
  const claim = item.claim;
  if (claim === null) return;
  item.claim = null;
  claim.markFailed(error);
  claim.release();
}

/**
 * The open elements of one settling source in one run, and the calls of its `settle`.
 * Calls are made in a microtask, never inside the engine's own frames, and each holds the
 * run open until it (and its promise) has settled; a throw fails the run. When everything
 * else in the run has stopped, `sweep` settles what is still open (docs/design.md §17).
 * A source with a checkpoint has a ledger too (its `settle` may be absent), whose
 * {@link Watermark} learns of each settlement (docs/design.md §23).
 */
export class Ledger {
  /** The next ledger of the same run (set by `Run.addLedger`). */
  nextLedger: Ledger | null = null;
  readonly #run: Run;
  readonly #settle: Settle<unknown> | undefined;
  readonly #watermark: Watermark | null;
  readonly #open = new Set<Claim>();

  constructor(run: Run, settle: Settle<unknown> | undefined, watermark: Watermark | null) {
    this.#run = run;
    this.#settle = settle;
    this.#watermark = watermark;
  }

  /**
   * A claim for a new source element, the `index`-th taken; `null` when the source's
   * `position` threw on it, which fails the run (the element settles `failed`).
   */
  claim(element: unknown, index: number): Claim | null {
    const claim = new Claim(this, element, null);
    this.#open.add(claim);
    const watermark = this.#watermark;
    return watermark === null || watermark.track(claim, index) ? claim : null;
  }

  /** `claim` has no references left: it settles, once. */
  settled(claim: Claim): void {
    if (!this.#open.delete(claim)) return;
    this.#watermark?.settled();
    if (this.#settle !== undefined) this.#call(claim.element, claim.failed ? { status: "failed", error: claim.error } : DONE);
  }

  /**
   * The run has stopped: every element still open settles, failed if a descendant failed,
   * else released; then the checkpoint makes its last save.
   */
  sweep(reason: unknown): void {
    if (this.#settle !== undefined) {
      for (const claim of this.#open) {
        this.#call(claim.element, claim.failed ? { status: "failed", error: claim.error } : { status: "released", reason });
      }
    }
    this.#open.clear();
    this.#watermark?.finish();
  }

  #call(element: unknown, outcome: SourceOutcome): void {
    const run = this.#run;
    const settle = this.#settle!;
    run.hold();
    queueMicrotask(() => run.awaitCallback(() => settle(element, outcome)));
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new Claim(null, undefined, []));
anchorShape(new Ledger(new Run(undefined), () => undefined, null));
