import { DROP, END, Item, pathOf } from "./item.js";
import { anchorShape } from "../shape-anchors.js";

/** A slot of a frame: an element waiting its turn, a dropped position, or a nested expansion. */
type Slot = Item | Frame | typeof DROPPED;

const DROPPED = Symbol("dropped");

/**
 * One level of the index-path tree: the children of one expansion (the source, a concat,
 * or one element's flatMap results). `size` is known once its end marker arrives.
 */
class Frame {
  size = -1;
  next = 0;
  readonly slots = new Map<number, Slot>();
}

/**
 * The tree behind `ordered()`: elements and markers go in keyed by index path; `drain`
 * emits, depth first, every element whose predecessors have all been emitted or dropped.
 * It holds only what arrived ahead of its turn; passed positions are deleted.
 */
export class OrderBuffer {
  readonly #root = new Frame();

  /** Records an element, a drop marker or an end marker. */
  add(item: Item): void {
    let frame = this.#root;
    let pos = item.pos;
    if (item.prefix !== null || item.up !== null) {
      const path = pathOf(item);
      const depth = pos === -1 ? path.length : path.length - 1;
      for (let i = 0; i < depth; i++) frame = childFrame(frame, path[i]!);
      pos = pos === -1 ? -1 : path[depth]!;
    }
    if (item.mark === END) {
      (pos === -1 ? frame : childFrame(frame, pos)).size = item.value as number;
    } else {
      frame.slots.set(pos, item.mark === DROP ? DROPPED : item);
    }
  }

  /**
   * Emits ready elements through `emit` while it returns true.
   * Returns whether everything has been emitted (the root expansion is complete).
   * `ended`: the input has ended, so a position still missing will never come (a `take()`
   * upstream cut the data short): it is passed over instead of waited for.
   */
  drain(emit: (item: Item) => boolean, ended: boolean): boolean {
    return drainFrame(this.#root, emit, ended);
  }
}

function childFrame(frame: Frame, pos: number): Frame {
  const slot = frame.slots.get(pos);
  if (slot instanceof Frame) return slot;
  const child = new Frame();
  frame.slots.set(pos, child);
  return child;
}

/** Returns true once `frame` is complete; false when waiting for data or for `emit`. */
function drainFrame(frame: Frame, emit: (item: Item) => boolean, ended: boolean): boolean {
  for (;;) {
    if (frame.size >= 0 && frame.next >= frame.size) return true;
    const slot = frame.slots.get(frame.next);
    if (slot === undefined) {
      if (!ended) return false;
      if (frame.slots.size === 0) return true;
      frame.next = Math.min(...frame.slots.keys());
      continue;
    }
    if (slot instanceof Frame) {
      if (!drainFrame(slot, emit, ended)) return false;
    } else if (slot !== DROPPED) {
      if (!emit(slot)) return false;
    }
    frame.slots.delete(frame.next);
    frame.next++;
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new OrderBuffer());
anchorShape(new Frame());
