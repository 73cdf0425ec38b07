import type { Producer, Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import { Run } from "./run.js";
import { settleDone } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";

// Never written to: only copied. Not frozen, because slice() of a frozen array leaves the
// builtin's fast path (about 300 ns a copy against 50 ns, 5 % of a small run's time).
const NO_VALUES: readonly unknown[] = [];

/**
 * The consumer behind `await pipeline`, `toArray()` and `run()`: it pushes values straight
 * into an array (or drops them), never through the async-iterator protocol, which would
 * cost a promise per element (docs/design.md §9).
 */
export class CollectSink implements Receiver {
  upstream!: Producer;
  /** The collected values, or `null` when they are discarded (`run()`). */
  readonly values: unknown[] | null;
  /** Values received (for the stats; `values` is `null` for `run()`). */
  delivered = 0;

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
    if (item.mark === VALUE) {
      this.delivered++;
      if (this.values !== null) this.values.push(item.value);
    }
    // Delivered once in the result (not at the end of the run: a source that holds a bounded
    // number of unsettled elements, such as a queue consumer, would wait forever for that).
    if (item.claim !== null) settleDone(item);
    return true;
  }

  end(): void {
    this.run.consumerEnded();
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new CollectSink(new Run(undefined), true));
