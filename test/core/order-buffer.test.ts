/**
 * OrderBuffer, the tree behind `ordered()`, fed Items and markers by hand.
 *
 * How the engine addresses elements (run/item.ts): an element's index path is
 * `prefix` (concat positions, outermost first) ++ path(`up`) ++ [`pos`]; a flatMap child's
 * `up` links to its parent's position, leaf to root. Marks: VALUE (an element), DROP (the
 * position was dropped), END (an expansion is complete, `value` = its number of children;
 * `pos` -1 names the expansion at `prefix`/`up` itself, as a source or concat sends it,
 * while a flatMap sends its parent item with `pos` = the parent's position).
 */
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DROP, END, Item, PathLink, VALUE, pathOf } from "../../packages/core/src/run/item.js";
import { OrderBuffer } from "../../packages/core/src/run/order-buffer.js";

// ---- building items ---------------------------------------------------------------------

/** A linked list, first element at the head (the order of `prefix`). */
function links(positions: readonly number[]): PathLink | null {
  let link: PathLink | null = null;
  for (let i = positions.length - 1; i >= 0; i--) link = new PathLink(positions[i]!, link);
  return link;
}

/** A linked list leaf to root (the order of `up`) of `parents`, given root first. */
function upLinks(parents: readonly number[]): PathLink | null {
  let link: PathLink | null = null;
  for (const pos of parents) link = new PathLink(pos, link);
  return link;
}

/**
 * An element at `path` (positions inside expansions, root first), under the concat
 * positions `prefix`.
 */
function value(v: unknown, path: readonly number[], prefix: readonly number[] = []): Item {
  return new Item(v, path[path.length - 1]!, upLinks(path.slice(0, -1)), links(prefix), VALUE, null);
}

/** A drop marker at `path`. */
function drop(path: readonly number[], prefix: readonly number[] = []): Item {
  return new Item(undefined, path[path.length - 1]!, upLinks(path.slice(0, -1)), links(prefix), DROP, null);
}

/**
 * The end marker of the expansion at `path` with `size` children: a flatMap's (the
 * parent item, re-marked) when `path` is non-empty, a source's or concat's (`pos` -1) when empty.
 */
function end(size: number, path: readonly number[] = [], prefix: readonly number[] = []): Item {
  if (path.length === 0) return new Item(size, -1, null, links(prefix), END, null);
  return new Item(size, path[path.length - 1]!, upLinks(path.slice(0, -1)), links(prefix), END, null);
}

/** A buffer plus a consumer that records what it is given and accepts up to `budget` items per drain. */
class Harness {
  readonly buffer = new OrderBuffer();
  readonly emitted: Item[] = [];
  /** Items the consumer still accepts; Infinity = always. */
  budget = Infinity;
  refusals = 0;

  readonly emit = (item: Item): boolean => {
    if (this.budget <= 0) {
      this.refusals++;
      return false;
    }
    this.budget--;
    this.emitted.push(item);
    return true;
  };

  add(...items: Item[]): this {
    for (const item of items) this.buffer.add(item);
    return this;
  }

  drain(): boolean {
    return this.buffer.drain(this.emit, false);
  }

  get values(): unknown[] {
    return this.emitted.map((item) => item.value);
  }
}

// ---- examples ---------------------------------------------------------------------------

describe("OrderBuffer", () => {
  it("emits elements that arrive out of order in index order, each as soon as its predecessors passed", () => {
    const h = new Harness();
    h.add(value("c", [2]), value("b", [1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([]);
    h.add(value("a", [0]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a", "b", "c"]);
    h.add(value("e", [4]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a", "b", "c"]);
    h.add(value("d", [3]));
    h.add(end(5));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("emits the very Item objects it was given", () => {
    const h = new Harness();
    const items = [value("x", [1]), value("y", [0])];
    h.add(...items, end(2));
    expect(h.drain()).toBe(true);
    expect(h.emitted).toHaveLength(2);
    expect(h.emitted[0]).toBe(items[1]);
    expect(h.emitted[1]).toBe(items[0]);
  });

  it("stops when emit returns false and resumes at the refused element, without loss or duplication", () => {
    const h = new Harness();
    h.add(value(0, [0]), value(1, [1]), value(2, [2]), value(3, [3]), value(4, [4]), end(5));
    h.budget = 2;
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([0, 1]);
    expect(h.refusals).toBe(1);
    // Draining again while the consumer is still full emits nothing and loses nothing.
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([0, 1]);
    h.budget = 1;
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([0, 1, 2]);
    h.budget = Infinity;
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual([0, 1, 2, 3, 4]);
  });

  it("resumes a refused element inside a nested expansion at the same place", () => {
    const h = new Harness();
    h.add(value("a", [0, 0]), value("b", [0, 1]), value("c", [0, 2]), end(3, [0]), value("d", [1]), end(2));
    h.budget = 2;
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a", "b"]);
    h.budget = Infinity;
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["a", "b", "c", "d"]);
  });

  it("lets later elements through once a dropped position's marker arrives", () => {
    const h = new Harness();
    h.add(value("a", [0]), value("c", [2]), value("e", [4]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a"]);
    h.add(drop([1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a", "c"]);
    h.add(drop([3]), end(5));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["a", "c", "e"]);
  });

  it("passes a run of drops ahead of the first element, and completes when everything was dropped", () => {
    const h = new Harness();
    h.add(drop([2]), drop([1]), end(3));
    expect(h.drain()).toBe(false);
    h.add(drop([0]));
    expect(h.drain()).toBe(true);
    expect(h.emitted).toEqual([]);
  });

  it("emits an expansion's children before the next element, even when the next element arrived first", () => {
    const h = new Harness();
    // Element 1 expands into three children; element 0 and element 2 are plain.
    h.add(value("two", [2]), value("zero", [0]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["zero"]);
    h.add(value("1.1", [1, 1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["zero"]);
    h.add(value("1.0", [1, 0]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["zero", "1.0", "1.1"]);
    // The expansion's size is not known yet: element 2 must wait.
    h.add(value("1.2", [1, 2]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["zero", "1.0", "1.1", "1.2"]);
    h.add(end(3, [1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["zero", "1.0", "1.1", "1.2", "two"]);
    h.add(end(3));
    expect(h.drain()).toBe(true);
  });

  it("passes an empty expansion (end marker with 0 children) as soon as its marker arrives", () => {
    const h = new Harness();
    h.add(value("a", [0]), value("c", [2]), end(3));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["a"]);
    h.add(end(0, [1]));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["a", "c"]);
  });

  it("takes an expansion's end marker before its children and still waits for every child", () => {
    const h = new Harness();
    h.add(end(2, [0]), value("after", [1]), end(2));
    expect(h.drain()).toBe(false);
    h.add(value("0.1", [0, 1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([]);
    h.add(value("0.0", [0, 0]));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["0.0", "0.1", "after"]);
  });

  it("handles expansions nested several levels deep, with drops and empty expansions inside", () => {
    const h = new Harness();
    // [0] -> { [0,0] -> { "000", drop }, [0,1] = "01", [0,2] -> {} }, [1] = "1"
    h.add(
      value("1", [1]),
      end(0, [0, 2]),
      value("01", [0, 1]),
      drop([0, 0, 1]),
      end(3, [0]),
      end(2, [0, 0]),
      end(2),
    );
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([]);
    h.add(value("000", [0, 0, 0]));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["000", "01", "1"]);
  });

  it("orders concat inputs by their prefix, input after input, with each input's own end marker", () => {
    const h = new Harness();
    // concat(source of 2, source of 1 expanding into 2 children): [0,0] [0,1] | [1,0,0] [1,0,1]
    h.add(value("b", [0, 0], [1]), value("y", [1], [0]), end(1, [], [1]), end(2, [0], [1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([]);
    h.add(value("x", [0], [0]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["x", "y"]);
    h.add(value("c", [0, 1], [1]), end(2, [], [0]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual(["x", "y", "b", "c"]);
    // The concat's own end marker says it has two inputs.
    h.add(end(2));
    expect(h.drain()).toBe(true);
  });

  it("orders nested concats by their prefix, outermost position first", () => {
    const h = new Harness();
    // concat(concat(A, B), C) with one element each: prefixes [0,0], [0,1], [1].
    h.add(value("C", [0], [1]), value("B", [0], [0, 1]), value("A", [0], [0, 0]));
    h.add(end(1, [], [1]), end(1, [], [0, 1]), end(1, [], [0, 0]), end(2, [], [0]), end(2));
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["A", "B", "C"]);
  });

  it("returns true only once the root's end marker is known and everything before it passed", () => {
    const h = new Harness();
    expect(h.drain()).toBe(false);
    h.add(value(0, [0]), value(1, [1]));
    expect(h.drain()).toBe(false);
    expect(h.values).toEqual([0, 1]);
    // More elements might follow until the root's size is known.
    expect(h.drain()).toBe(false);
    h.add(end(2));
    expect(h.drain()).toBe(true);
    // And stays complete.
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual([0, 1]);
  });

  it("an empty root completes on its end marker alone", () => {
    const h = new Harness();
    h.add(end(0));
    expect(h.drain()).toBe(true);
    expect(h.emitted).toEqual([]);
  });

  it("does not complete while the consumer refuses the last element", () => {
    const h = new Harness();
    h.add(value("only", [0]), end(1));
    h.budget = 0;
    expect(h.drain()).toBe(false);
    h.budget = Infinity;
    expect(h.drain()).toBe(true);
    expect(h.values).toEqual(["only"]);
  });

  it("streams a long in-order sequence one element per add, holding nothing back", () => {
    const h = new Harness();
    const n = 20_000;
    let heldBack = 0;
    for (let i = 0; i < n; i++) {
      h.add(value(i, [i]));
      if (h.drain() || h.emitted.length !== i + 1) heldBack++;
    }
    expect(heldBack).toBe(0);
    h.add(end(n));
    expect(h.drain()).toBe(true);
    expect(h.emitted).toHaveLength(n);
  });
});

// ---- memory -----------------------------------------------------------------------------

// A forced full GC without a CLI flag (as test/reliability/leaks.test.ts does).
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

/** Resolves after the current macrotask, so WeakRef targets read in this job may be collected. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await tick();
    gc();
  }
}

describe("OrderBuffer memory", () => {
  // Items are created inside helper functions so that no test variable keeps them alive.
  function addTracked(buffer: OrderBuffer, items: () => Item[]): WeakRef<Item>[] {
    const refs: WeakRef<Item>[] = [];
    for (const item of items()) {
      refs.push(new WeakRef(item));
      buffer.add(item);
    }
    return refs;
  }

  const alive = (refs: readonly WeakRef<Item>[]): number => refs.filter((ref) => ref.deref() !== undefined).length;

  it("does not retain elements it has emitted, nor the frames of passed expansions", async () => {
    const buffer = new OrderBuffer();
    const drainDiscarding = (): boolean => buffer.drain(() => true, false);
    const refs = addTracked(buffer, () => {
      const items: Item[] = [];
      for (let i = 0; i < 200; i++) {
        // Odd positions expand into two children; even positions are plain elements.
        if (i % 2 === 0) items.push(value(i, [i]));
        else items.push(value(i, [i, 1]), value(i, [i, 0]), end(2, [i]));
      }
      return items;
    });
    expect(drainDiscarding()).toBe(false);
    await collectGarbage();
    expect(alive(refs)).toBe(0);
    buffer.add(end(200));
    expect(drainDiscarding()).toBe(true);
  });

  it("retains exactly the elements still waiting for their turn (control for the test above)", async () => {
    const buffer = new OrderBuffer();
    const drainDiscarding = (): boolean => buffer.drain(() => true, false);
    // Position 0 is missing, so positions 1..100 must wait.
    const waiting = addTracked(buffer, () => Array.from({ length: 100 }, (_, i) => value(i + 1, [i + 1])));
    expect(drainDiscarding()).toBe(false);
    await collectGarbage();
    expect(alive(waiting)).toBe(100);
    buffer.add(value(0, [0]));
    expect(drainDiscarding()).toBe(false);
    await collectGarbage();
    expect(alive(waiting)).toBe(0);
  });
});

// ---- property ---------------------------------------------------------------------------

/**
 * A random `ordered()` input: a concat (only at the top, as in a graph) or an expansion
 * (a source or a flatMap result) whose children are elements, drops, or expansions.
 */
type Child = { readonly kind: "leaf" } | { readonly kind: "drop" } | Expansion;
interface Expansion {
  readonly kind: "expand";
  readonly children: readonly Child[];
}
interface Concat {
  readonly kind: "concat";
  readonly inputs: readonly (Concat | Expansion)[];
}
type Root = Concat | Expansion;

const trees = fc.letrec<{ root: Root; concat: Concat; expand: Expansion; child: Child }>((tie) => ({
  root: fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("expand"), tie("concat")),
  concat: fc.record({
    kind: fc.constant("concat" as const),
    inputs: fc.array(fc.oneof({ depthSize: "small", withCrossShrink: true }, tie("expand"), tie("concat")), {
      maxLength: 3,
    }),
  }),
  expand: fc.record({ kind: fc.constant("expand" as const), children: fc.array(tie("child"), { maxLength: 5 }) }),
  child: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant({ kind: "leaf" } as const),
    fc.constant({ kind: "drop" } as const),
    tie("expand"),
  ),
}));

/** One message to the buffer, and what the model needs to know about it. */
interface Message {
  readonly item: Item;
  /** A key naming the position (or, for end markers, the expansion) it is about. */
  readonly key: string;
}

interface Plan {
  readonly messages: Message[];
  /** Ids of the non-dropped leaves in depth-first index order. */
  readonly expected: number[];
  /**
   * The model: the ids the buffer may have emitted by now, given which keys have arrived:
   * depth first, stopping at the first position (or end marker) that has not arrived.
   */
  ready(arrived: ReadonlySet<string>): { readonly ids: number[]; readonly complete: boolean };
}

function plan(root: Root): Plan {
  const messages: Message[] = [];
  const expected: number[] = [];
  let nextId = 0;
  const endKey = (prefix: readonly number[], path: readonly number[]) => `end ${prefix.join(".")}|${path.join(".")}`;
  const posKey = (prefix: readonly number[], path: readonly number[]) => `at ${prefix.join(".")}|${path.join(".")}`;

  // Walks the tree once to make the messages, and returns a model walker for it.
  type Walk = (arrived: ReadonlySet<string>, out: number[]) => boolean;
  function expansion(node: Expansion, prefix: readonly number[], path: readonly number[]): Walk {
    const walks: Walk[] = node.children.map((child, i) => {
      const childPath = [...path, i];
      const key = posKey(prefix, childPath);
      switch (child.kind) {
        case "leaf": {
          const id = nextId++;
          expected.push(id);
          messages.push({ item: value(id, childPath, prefix), key });
          return (arrived, out) => {
            if (!arrived.has(key)) return false;
            out.push(id);
            return true;
          };
        }
        case "drop":
          messages.push({ item: drop(childPath, prefix), key });
          return (arrived) => arrived.has(key);
        case "expand":
          return expansion(child, prefix, childPath);
      }
    });
    const key = endKey(prefix, path);
    messages.push({ item: end(node.children.length, path, prefix), key });
    return (arrived, out) => walks.every((walk) => walk(arrived, out)) && arrived.has(key);
  }
  function top(node: Root, prefix: readonly number[]): Walk {
    if (node.kind === "expand") return expansion(node, prefix, []);
    const walks = node.inputs.map((input, i) => top(input, [...prefix, i]));
    const key = endKey(prefix, []);
    messages.push({ item: end(node.inputs.length, [], prefix), key });
    return (arrived, out) => walks.every((walk) => walk(arrived, out)) && arrived.has(key);
  }
  const walk = top(root, []);
  return {
    messages,
    expected,
    ready(arrived) {
      const ids: number[] = [];
      const complete = walk(arrived, ids);
      return { ids, complete };
    },
  };
}

describe("OrderBuffer property", () => {
  it("the helpers encode the paths the engine uses (pathOf round-trips)", () => {
    expect(pathOf(value("v", [3, 1, 4], [2, 7]))).toEqual([2, 7, 3, 1, 4]);
    expect(pathOf(end(5, [3, 1], [2]))).toEqual([2, 3, 1]);
    expect(pathOf(end(5, [], [2]))).toEqual([2]);
  });

  it("drains exactly the non-dropped leaves in depth-first index order, as early as possible, for any arrival order and any consumer refusals", () => {
    fc.assert(
      fc.property(
        trees.root.chain((root) => {
          const p = plan(root);
          const n = p.messages.length;
          return fc.tuple(
            fc.constant(p),
            fc.shuffledSubarray(p.messages, { minLength: n, maxLength: n }),
            // How many elements the consumer accepts in each drain (cycled); large = no refusal.
            fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(1000)), { minLength: 1, maxLength: 8 }),
          );
        }),
        ([p, order, budgets]) => {
          const h = new Harness();
          const arrived = new Set<string>();
          order.forEach((message, step) => {
            h.add(message.item);
            arrived.add(message.key);
            h.budget = budgets[step % budgets.length]!;
            const refusedBefore = h.refusals;
            const complete = h.drain();
            const refused = h.refusals > refusedBefore;
            const model = p.ready(arrived);
            const ids = h.values as number[];
            // Never ahead of the model, never out of order, never twice.
            expect(model.ids.slice(0, ids.length)).toEqual(ids);
            if (!refused) {
              // Not held back by the consumer: everything ready has been emitted.
              expect(ids).toEqual(model.ids);
              expect(complete).toBe(model.complete);
            } else {
              expect(complete).toBe(false);
            }
          });
          h.budget = Infinity;
          expect(h.drain()).toBe(true);
          expect(h.values).toEqual(p.expected);
          expect(h.emitted.every((item) => item.mark === VALUE)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
