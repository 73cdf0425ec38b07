/**
 * BoundedQueue, the engine's ring-buffer FIFO (stage input queues, outboxes, the iterator
 * sink's buffer), tested on its own rather than through the DSL.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoundedQueue } from "../../packages/core/src/bounded-queue.js";

/** Shifts until empty, returning what came out. */
function drainAll<T>(queue: BoundedQueue<T>): T[] {
  const out: T[] = [];
  while (queue.length > 0) out.push(queue.shift() as T);
  return out;
}

describe("BoundedQueue", () => {
  it("starts empty and shift() on an empty queue returns undefined without changing its length", () => {
    const queue = new BoundedQueue<number>();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(0);
    queue.push(1);
    expect(queue.shift()).toBe(1);
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(0);
  });

  it("keeps FIFO order and counts its length", () => {
    const queue = new BoundedQueue<string>();
    queue.push("a");
    queue.push("b");
    queue.push("c");
    expect(queue.length).toBe(3);
    expect(queue.shift()).toBe("a");
    expect(queue.length).toBe(2);
    queue.push("d");
    expect(drainAll(queue)).toEqual(["b", "c", "d"]);
    expect(queue.length).toBe(0);
  });

  it("returns the very objects it was given", () => {
    const queue = new BoundedQueue<{ n: number }>(2);
    const items = [{ n: 0 }, { n: 1 }, { n: 2 }];
    for (const item of items) queue.push(item);
    expect(queue.shift()).toBe(items[0]);
    expect(queue.shift()).toBe(items[1]);
    expect(queue.shift()).toBe(items[2]);
  });

  it.each([0, 1, 2, 3, 8])("grows past an initial capacity of %i without losing or reordering elements", (capacity) => {
    const queue = new BoundedQueue<number>(capacity);
    for (let i = 0; i < 1000; i++) queue.push(i);
    expect(queue.length).toBe(1000);
    expect(drainAll(queue)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it("keeps FIFO order when it grows while wrapped", () => {
    const queue = new BoundedQueue<number>(4);
    // Fill the 4-slot ring, free its first two slots, and refill them: the contents now wrap
    // around the end of the buffer (head at slot 2, elements 2 3 | 4 5).
    for (let i = 0; i < 4; i++) queue.push(i);
    expect(queue.shift()).toBe(0);
    expect(queue.shift()).toBe(1);
    queue.push(4);
    queue.push(5);
    expect(queue.length).toBe(4);
    // The next push grows the buffer while it is wrapped.
    queue.push(6);
    queue.push(7);
    queue.push(8);
    expect(queue.length).toBe(7);
    expect(drainAll(queue)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it("keeps FIFO order through many wrap-and-grow cycles with interleaved shifts", () => {
    const queue = new BoundedQueue<number>(2);
    const expected: number[] = [];
    const seen: number[] = [];
    let next = 0;
    // Each round pushes three and shifts two, so the head keeps moving and the ring grows
    // at varying head offsets.
    for (let round = 0; round < 300; round++) {
      for (let k = 0; k < 3; k++) {
        queue.push(next);
        expected.push(next++);
      }
      for (let k = 0; k < 2; k++) seen.push(queue.shift()!);
    }
    expect(queue.length).toBe(300);
    seen.push(...drainAll(queue));
    expect(seen).toEqual(expected);
  });

  it("clear() empties the queue, which stays usable (also after growing and wrapping)", () => {
    const queue = new BoundedQueue<number>(2);
    for (let i = 0; i < 5; i++) queue.push(i);
    queue.shift();
    queue.shift();
    for (let i = 5; i < 9; i++) queue.push(i);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    for (let i = 100; i < 120; i++) queue.push(i);
    expect(queue.length).toBe(20);
    expect(drainAll(queue)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    queue.clear();
    queue.clear();
    expect(queue.length).toBe(0);
  });

  it("stores undefined and null like any other value (length tells them from empty)", () => {
    const queue = new BoundedQueue<number | null | undefined>();
    queue.push(undefined);
    queue.push(null);
    queue.push(0);
    expect(queue.length).toBe(3);
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(2);
    expect(queue.shift()).toBeNull();
    expect(queue.shift()).toBe(0);
    expect(queue.length).toBe(0);
  });

  it("behaves like a plain array for any sequence of push, shift and clear", () => {
    type Op = { readonly op: "push"; readonly value: number } | { readonly op: "shift" } | { readonly op: "clear" };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.integer().map((value): Op => ({ op: "push", value })) },
      { weight: 4, arbitrary: fc.constant<Op>({ op: "shift" }) },
      { weight: 1, arbitrary: fc.constant<Op>({ op: "clear" }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const queue = new BoundedQueue<number>(capacity);
        const model: number[] = [];
        for (const step of ops) {
          switch (step.op) {
            case "push":
              queue.push(step.value);
              model.push(step.value);
              break;
            case "shift":
              expect(queue.shift()).toBe(model.shift());
              break;
            case "clear":
              queue.clear();
              model.length = 0;
              break;
          }
          expect(queue.length).toBe(model.length);
        }
        expect(drainAll(queue)).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });
});
