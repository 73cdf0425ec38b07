import type { Claim } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";

/** One step of an index path, linked towards its parent (or towards the outer concat). */
export class PathLink {
  constructor(
    readonly pos: number,
    readonly next: PathLink | null,
  ) {}
}

/** An element; `value` is the element. */
export const VALUE = 0;
/** A marker: the element at this path was dropped (filtered out, skipped, or consumed by `each`). */
export const DROP = 1;
/** A marker: the expansion at this path is complete; `value` is its number of children. */
export const END = 2;
/** What an {@link Item} carries: an element, or a marker that only `ordered()` reads. */
export type Mark = typeof VALUE | typeof DROP | typeof END;

/**
 * The message that carries one element through the graph. One object per element is
 * reused from stage to stage (cloned only where a node feeds several consumers).
 *
 * Its index path is stored in parts so that extending it is O(1) and allocation-free for
 * map and filter: `prefix` (concat positions, outermost first) ++ path(`up`) ++ `[pos]`.
 * A `pos` of -1 names the expansion itself rather than one of its children (end markers).
 * `claim` is the item's reference to the source element it derives from, for a source that
 * settles (docs/design.md §17); `null` otherwise, and always on markers.
 */
export class Item {
  constructor(
    public value: unknown,
    public pos: number,
    public up: PathLink | null,
    public prefix: PathLink | null,
    public mark: Mark,
    public claim: Claim | null,
  ) {}
}

/** The item's index path as an array (allocated on demand, as for `ctx.index`). */
export function pathOf(item: Item): number[] {
  const path: number[] = [];
  for (let link = item.prefix; link !== null; link = link.next) path.push(link.pos);
  const start = path.length;
  if (item.pos >= 0) path.push(item.pos);
  for (let link = item.up; link !== null; link = link.next) path.push(link.pos);
  // The `up` chain runs leaf to root; put that part in root-to-leaf order.
  for (let i = start, j = path.length - 1; i < j; i++, j--) {
    const t = path[i]!;
    path[i] = path[j]!;
    path[j] = t;
  }
  return path;
}

/** A copy of `item` for one more consumer of a shared node. */
export function cloneItem(item: Item): Item {
  const claim = item.claim;
  if (claim !== null) claim.retain();
  return new Item(item.value, item.pos, item.up, item.prefix, item.mark, claim);
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new Item(undefined, 0, new PathLink(0, null), null, VALUE, null));
