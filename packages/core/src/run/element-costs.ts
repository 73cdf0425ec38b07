import { describeValue } from "../describe-value.js";
import type { Item } from "./item.js";
import { CallContext } from "./stage-info.js";

type Fn = (value: unknown, ctx: unknown) => unknown;

/**
 * A stage's `cost` (docs/design.md §24): how many units of its `rateLimit` a call of `f` on
 * an element takes. The units are needed before the call, to take its turn; a `cost` that
 * throws or gives no finite number >= 0 fails that element as a failure of `f` would (its
 * retries and `onError` apply). So the element takes its turn for 0 units, and the stage's
 * `f`, wrapped by {@link wrap}, throws the cost's error instead of running. Created only for
 * stages with a `cost`.
 */
export class ElementCosts {
  readonly #stage: string;
  readonly #cost: (element: unknown) => number;
  /** Elements whose cost failed, with the error their call throws. */
  readonly #failures = new Map<Item, unknown>();
  /** The last element asked about and its units: a waiting head of the queue is asked again. */
  #lastItem: Item | null = null;
  #lastUnits = 0;

  constructor(stage: string, cost: (element: unknown) => number) {
    this.#stage = stage;
    this.#cost = cost;
  }

  /** The units a call on `item` takes; 0 when its cost failed (the call then fails). */
  unitsOf(item: Item): number {
    if (item === this.#lastItem) return this.#lastUnits;
    let units: unknown;
    try {
      units = this.#cost(item.value);
    } catch (error) {
      this.#failures.set(item, error);
      return 0;
    }
    if (typeof units !== "number" || !(units >= 0 && units !== Infinity)) {
      const message = `${this.#stage}: cost must return a finite number >= 0 (received ${describeValue(units)})`;
      this.#failures.set(item, typeof units === "number" ? new RangeError(message) : new TypeError(message));
      return 0;
    }
    this.#lastItem = item;
    this.#lastUnits = units;
    return units;
  }

  /** `f`, throwing instead for an element whose cost failed. */
  wrap(fn: Fn): Fn {
    const failures = this.#failures;
    return (value, ctx) => {
      if (failures.size > 0) {
        const item = CallContext.itemOf(ctx as CallContext);
        if (failures.has(item)) {
          const error = failures.get(item);
          failures.delete(item);
          throw error;
        }
      }
      return fn(value, ctx);
    };
  }
}
