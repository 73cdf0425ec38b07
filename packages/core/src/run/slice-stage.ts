import { describeValue } from "../describe-value.js";
import { createSourceNode } from "../nodes/source-node.js";
import { createSliceNode, type SliceMode, type SliceNode } from "../nodes/slice-node.js";
import type { Producer, Receiver } from "./flow.js";
import { DROP, VALUE, type Item } from "./item.js";
import { Run } from "./run.js";
import { settleDone, settleFailed } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";
import { isPromiseLike } from "./thenable.js";

type Predicate = (value: unknown, counter: number) => unknown;

/**
 * `take(n)`, `takeWhile(pred)` and `drop(n)`: passes on a part of its input in arrival order.
 * Once `take` or `takeWhile` is satisfied it ends its downstream and never resumes its
 * upstream, so nothing more is pulled; the run then tears down what is upstream as soon as
 * the consumer has received the end, and settles as a normal end (docs/design.md §26).
 * Markers pass through for an `ordered()` downstream, which is told by the end that the
 * positions it still misses will never come.
 */
export class SliceStage implements Receiver, Producer {
  out!: Receiver;
  upstream!: Producer;

  readonly #run: Run;
  readonly #mode: SliceMode;
  readonly #predicate: Predicate | undefined;
  readonly #method: string;
  /** Whether an `ordered()` downstream needs drop markers for the elements `drop` leaves out. */
  readonly #markers: boolean;
  /**
   * Whether a node upstream feeds another branch too (a pipeline shared through a concat):
   * then that branch sets the pace, and a satisfied slice drops what still comes instead of
   * holding its input, which would stall the shared stage and the other branch with it.
   */
  readonly #shared: boolean;
  /** Elements still to take (`take`) or to leave out (`drop`). */
  #remaining: number;
  /** Elements seen by `takeWhile`'s predicate: its second argument, as in TC39's helpers. */
  #counter = 0;
  /** Satisfied: the downstream has ended and the upstream stays paused until the teardown. */
  #stopped = false;

  constructor(run: Run, node: SliceNode, markers: boolean, shared: boolean) {
    this.#run = run;
    this.#shared = shared;
    this.#mode = node.mode;
    this.#predicate = node.predicate as Predicate | undefined;
    this.#method = node.method;
    this.#markers = markers;
    this.#remaining = node.count;
  }

  push(item: Item): boolean {
    if (this.#run.closing) return false;
    if (this.#stopped) return this.#discard(item);
    if (item.mark !== VALUE) return this.out.push(item);
    switch (this.#mode) {
      case "take":
        return this.#take(item);
      case "takeWhile":
        return this.#takeWhile(item);
      case "drop":
        return this.#drop(item);
      default:
        // Exhaustive: a new mode fails to compile until it is handled above.
        return this.#mode satisfies never;
    }
  }

  end(): void {
    if (!this.#stopped) this.out.end();
  }

  resume(): void {
    if (!this.#stopped && !this.#run.closing) this.upstream.resume();
  }

  #take(item: Item): boolean {
    // take(0): the first element is not wanted, nor anything after it.
    if (this.#remaining === 0) return this.#stop() && this.#discard(item);
    this.#remaining--;
    const more = this.out.push(item);
    return this.#remaining > 0 ? more : this.#stop();
  }

  #takeWhile(item: Item): boolean {
    let keep: unknown;
    try {
      keep = this.#predicate!(item.value, this.#counter++);
    } catch (error) {
      this.#fail(item, error);
      return false;
    }
    if (isPromiseLike(keep)) {
      // A promise is truthy: taking it as a yes would never stop. Async tests belong in a filter stage.
      this.#fail(item, new TypeError(`${this.#method}(): pred must not return a promise (received ${describeValue(keep)})`));
      return false;
    }
    if (keep) return this.out.push(item);
    // The first element that fails the test is not emitted: it is done here, as a filter's would be.
    if (item.claim !== null) settleDone(item);
    return this.#stop();
  }

  #drop(item: Item): boolean {
    if (this.#remaining === 0) return this.out.push(item);
    this.#remaining--;
    if (item.claim !== null) settleDone(item);
    if (!this.#markers) return true;
    item.mark = DROP;
    item.value = undefined;
    return this.out.push(item);
  }

  #fail(item: Item, error: unknown): void {
    settleFailed(item, error);
    this.#run.fail(error);
  }

  /**
   * Satisfied: end downstream, and let the run tear the rest down once the consumer has the
   * end. Returns whether more items are welcome: no, so the source is pulled no more; except
   * below a shared node, whose other branches set the pace (holding it would stall them).
   */
  #stop(): boolean {
    this.#stopped = true;
    this.#run.stopEarly();
    this.out.end();
    return this.#shared;
  }

  /**
   * An item after the stop. Held back from a chain, it stays as it is (an element of a
   * settling source is released by the teardown's sweep); below a shared node it is dropped,
   * and gives its reference back, so the other branches decide how its element settles.
   */
  #discard(item: Item): boolean {
    if (!this.#shared) return false;
    if (item.claim !== null) settleDone(item);
    return true;
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new SliceStage(new Run(undefined), createSliceNode(createSourceNode([]), "take", 1, undefined), false, false));
