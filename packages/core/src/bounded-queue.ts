import { anchorShape } from "./shape-anchors.js";

/**
 * A FIFO queue on a power-of-two ring buffer: O(1) `push` and `shift`, no array copies.
 * It grows when full; the scheduler, not the queue, enforces `maxsize`.
 *
 * @example
 * ```ts
 * const q = new BoundedQueue<number>();
 * q.push(1); q.push(2);
 * q.shift(); // 1
 * q.length; // 1
 * ```
 */
export class BoundedQueue<T> {
  #buffer: (T | undefined)[];
  #head = 0;
  #length = 0;
  #mask: number;

  /** Creates an empty queue with room for `capacity` elements before it first grows. */
  constructor(capacity = 8) {
    let size = 2;
    while (size < capacity) size *= 2;
    this.#buffer = new Array<T | undefined>(size);
    this.#mask = size - 1;
  }

  /** The number of elements in the queue. */
  get length(): number {
    return this.#length;
  }

  /** Appends `value` at the back. */
  push(value: T): void {
    if (this.#length > this.#mask) this.#grow();
    this.#buffer[(this.#head + this.#length) & this.#mask] = value;
    this.#length++;
  }

  /** Removes and returns the front element, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const value = this.#buffer[this.#head];
    this.#buffer[this.#head] = undefined;
    this.#head = (this.#head + 1) & this.#mask;
    this.#length--;
    return value;
  }

  /** The front element without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#buffer[this.#head];
  }

  /** The element `index` places from the front (0 is the front), or `undefined` past the back. */
  at(index: number): T | undefined {
    return index < this.#length ? this.#buffer[(this.#head + index) & this.#mask] : undefined;
  }

  /** Removes and returns the back element (the one pushed last), or `undefined` when empty. */
  pop(): T | undefined {
    if (this.#length === 0) return undefined;
    this.#length--;
    const at = (this.#head + this.#length) & this.#mask;
    const value = this.#buffer[at];
    this.#buffer[at] = undefined;
    return value;
  }

  /** Removes every element. */
  clear(): void {
    this.#buffer.fill(undefined);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const old = this.#buffer;
    const size = old.length * 2;
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.#length; i++) next[i] = old[(this.#head + i) & this.#mask];
    this.#buffer = next;
    this.#head = 0;
    this.#mask = size - 1;
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new BoundedQueue<unknown>());
