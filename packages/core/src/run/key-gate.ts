import { BoundedQueue } from "../bounded-queue.js";
import type { StageKeyFunction } from "../nodes/stage-settings.js";
import type { Item } from "./item.js";
import { anchorShape } from "../shape-anchors.js";

/**
 * Per-key order for a stage with `key` (docs/design.md §20): decides which arriving elements
 * may start and which wait behind an earlier element of their key. A key is *held* from the
 * moment an element of it is admitted until the stage is finished with that element
 * (delivered, dropped, given up on, or abandoned by a timeout); its later elements wait in a
 * FIFO of their own, outside the stage's queue, and are counted in {@link held} so that the
 * stage's bound covers them. A stage without `key` never creates one.
 */
export class KeyGate {
  readonly #keyOf: (element: unknown) => unknown;
  /** Every held key, with the elements waiting behind its holder (`null` while none waits). */
  readonly #lanes = new Map<unknown, BoundedQueue<Item> | null>();
  /** The key each admitted element holds, until it is released. */
  readonly #holders = new Map<Item, unknown>();
  /** Elements waiting behind a held key. */
  held = 0;

  constructor(keyOf: StageKeyFunction) {
    this.#keyOf = keyOf as (element: unknown) => unknown;
  }

  /** The key of `item`'s element: the user's function, which may throw (the stage handles that). */
  keyOf(item: Item): unknown {
    return this.#keyOf(item.value);
  }

  /**
   * Admits `item` with key `key`: returns `true` when it may start (its key was free, and is
   * now held by it, or it has no key), `false` when it waits behind its key's holder.
   */
  admit(item: Item, key: unknown): boolean {
    if (key === null || key === undefined) return true;
    const lanes = this.#lanes;
    if (!lanes.has(key)) {
      lanes.set(key, null);
      this.#holders.set(item, key);
      return true;
    }
    let lane = lanes.get(key) ?? null;
    if (lane === null) {
      lane = new BoundedQueue<Item>(2);
      lanes.set(key, lane);
    }
    lane.push(item);
    this.held++;
    return false;
  }

  /**
   * The stage is finished with `item`: frees its key, or hands it to the next element of
   * that key, which is returned (it may start now, in the key's order).
   */
  release(item: Item): Item | undefined {
    const holders = this.#holders;
    if (holders.size === 0) return undefined;
    const key = holders.get(item);
    if (key === undefined) return undefined; // an element without a key
    holders.delete(item);
    const lane = this.#lanes.get(key) ?? null;
    const next = lane === null ? undefined : lane.shift();
    if (next === undefined) {
      this.#lanes.delete(key);
      return undefined;
    }
    this.held--;
    holders.set(next, key);
    return next;
  }

  /** Teardown: forgets every held key and waiting element. */
  clear(): void {
    this.#lanes.clear();
    this.#holders.clear();
    this.held = 0;
  }
}

// Keep the hidden class of this per-run object alive (see shape-anchors.ts).
anchorShape(new KeyGate(() => undefined));
