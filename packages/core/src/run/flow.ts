import type { Item } from "./item.js";

/**
 * The downstream end of a connection. The protocol is Node's `writable.write()`: `push`
 * always takes the item and returns whether more are welcome; after `false` the producer
 * waits for its `resume()`. This keeps every bound exact without a promise per element.
 */
export interface Receiver {
  /** Takes `item`; returns `false` when the producer must pause until `resume()`. */
  push(item: Item): boolean;
  /** The producer has no more items. */
  end(): void;
}

/** The upstream end of a connection. */
export interface Producer {
  /** The receiver has room again. */
  resume(): void;
}
