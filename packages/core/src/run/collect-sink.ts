import type { Producer, Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import { Run } from "./run.js";
import { settleDone, type Claim } from "./settlement.js";
import { anchorShape } from "./shape-anchors.js";

const NO_VALUES: readonly unknown[] = Object.freeze([]);

/**
 * The consumer behind `await pipeline`, `toArray()` and `run()`: it pushes values straight
 * into an array (or drops them), never through the async-iterator protocol, which would
 * cost a promise per element (docs/design.md §9).
 */
export class CollectSink implements Receiver {
  upstream!: Producer;
  /** The collected values, or `null` when they are discarded (`run()`). */
  readonly values: unknown[] | null;
  /**
   * References to settling sources' elements whose values wait in `values`: they are
   * delivered when the data is complete, not before, since a run that fails hands its
   * consumer nothing (docs/design.md §16).
   */
  #claims: Claim[] | null = null;

  constructor(
    readonly run: Run,
    keep: boolean,
  ) {
    // A slice of a shared empty array, not a `[]` literal: the result array outlives its
    // run, so a literal's allocation site gets pretenured and then every run's bookkeeping
    // allocated beside it pays old-space write barriers (docs/design.md §14).
    this.values = keep ? NO_VALUES.slice() : null;
  }

  push(item: Item): boolean {
    if (item.mark === VALUE && this.values !== null) this.values.push(item.value);
    if (item.claim !== null) {
      if (this.values === null) {
        settleDone(item);
      } else {
        (this.#claims ??= []).push(item.claim);
        item.claim = null;
      }
    }
    return true;
  }

  end(): void {
    const claims = this.#claims;
    if (claims !== null) {
      this.#claims = null;
      for (const claim of claims) claim.release();
    }
    this.run.consumerEnded();
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new CollectSink(new Run(undefined), true));
