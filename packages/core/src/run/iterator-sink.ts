import { BoundedQueue } from "../bounded-queue.js";
import type { Producer, Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import type { Run } from "./run.js";
import { settleDone } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";

type Resolve = (result: IteratorResult<unknown>) => void;
type Reject = (reason: unknown) => void;

const DONE: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });

/** One `next()` call waiting for a value, in the order the calls were made. */
class Waiter {
  constructor(
    readonly resolve: Resolve,
    readonly reject: Reject,
  ) {}
}

/**
 * The consumer behind `for await` and `iterate()`: a buffer of at most `capacity` values
 * (`0` = unbounded). `next()` is answered from the buffer when values wait, or handed the
 * next value synchronously when it arrives; calls made before earlier ones settled are
 * queued and settled in order, as an async generator does (docs/behaviour.md §9.2). Once the
 * run fails, buffered values are dropped and the next `next()` rejects with the run's error
 * (§9.10). `return()` (a `break`) tears the run down and resolves once every in-flight call
 * and hook has settled.
 *
 * An element of a settling source is in the consumer's hand from the `next()` that hands it
 * out until the consumer asks for another (it is then done) or leaves (it is then released by
 * the teardown's sweep): a loop body that throws calls `return()` as a `break` does, so it
 * cannot be told apart, and releasing redelivers rather than loses (docs/behaviour.md §11).
 */
export class IteratorSink implements Receiver, AsyncIterableIterator<unknown> {
  upstream!: Producer;
  /** Values received: handed to a waiting `next()` or buffered for the next one (for the stats). */
  delivered = 0;

  /** Items, not values: an element of a settling source is done only once handed to a `next()`. */
  readonly #buffer = new BoundedQueue<Item>();
  readonly #waiters = new BoundedQueue<Waiter>();
  readonly #capacity: number;
  /** Told of a run failure that no waiting `next()` receives; `null` when nobody asked. */
  readonly #onFailed: ((error: unknown) => void) | null;
  #run: Run | null = null;
  readonly #begin: (sink: IteratorSink) => Run | null;
  #blocked = false;
  #settled = false;
  /** An error not yet delivered to a `next()`. */
  #failure: { error: unknown } | null = null;
  #leaving: Array<() => void> | null = null;
  /** The data ended while values of a settling source wait in the buffer or in hand (docs/design.md §17). */
  #endPending = false;
  /** The last item of a settling source handed out: done when the consumer asks for the next. */
  #inHand: Item | null = null;

  /**
   * @param capacity - how many values may wait for the consumer
   * @param onFailed - told of a run failure while no `next()` waits (a stream errors at once)
   * @param begin - wires and starts the run on the first `next()`; `null` when it cannot start
   */
  constructor(capacity: number, onFailed: ((error: unknown) => void) | null, begin: (sink: IteratorSink) => Run | null) {
    this.#capacity = capacity;
    this.#onFailed = onFailed;
    this.#begin = begin;
  }

  /** Binds the run this sink consumes. */
  attach(run: Run): void {
    this.#run = run;
    run.onSettle = () => this.#onSettle();
  }

  /** The run could not start (an already-aborted signal): fail with `reason`. */
  refuse(reason: unknown): void {
    this.#settled = true;
    this.#failure = { error: reason };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#run === null && !this.#settled) this.#begin(this);
    // Null unless the source settles: the only cost of in-hand elements to other runs.
    if (this.#inHand !== null) this.#finishInHand();
    const buffer = this.#buffer;
    if (buffer.length > 0 && this.#waiters.length === 0) {
      const run = this.#run!;
      if (run.failed) {
        // The run failed: what is still buffered is not delivered (docs/behaviour.md §9.10).
        buffer.clear();
      } else {
        const item = buffer.shift()!;
        if (item.claim !== null) {
          this.#inHand = item;
        } else if (this.#endPending && buffer.length === 0) {
          // The last value waiting was another source's: nothing of the settling one is left.
          this.#endPending = false;
          run.consumerEnded();
        }
        const value = item.value;
        if (this.#blocked && (this.#capacity === 0 || buffer.length < this.#capacity) && !run.closing) {
          this.#blocked = false;
          this.upstream.resume();
        }
        return Promise.resolve({ done: false, value });
      }
    }
    if (this.#settled && this.#waiters.length === 0) return this.#settledResult();
    return new Promise<IteratorResult<unknown>>((resolve, reject) => {
      this.#waiters.push(new Waiter(resolve, reject));
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    const run = this.#run;
    // The consumer is gone: no buffered value of this run may be handed out any more, and
    // the element in its hand stays open, for the teardown's sweep to release.
    this.#buffer.clear();
    this.#inHand = null;
    if (run === null || this.#settled) {
      this.#settled = true;
      this.#failure = null;
      this.#settleWaiters();
      return Promise.resolve(DONE);
    }
    const leaving = (this.#leaving ??= []);
    const done = new Promise<IteratorResult<unknown>>((resolve) => leaving.push(() => resolve(DONE)));
    run.leave();
    return done;
  }

  throw(): Promise<IteratorResult<unknown>> {
    return this.return();
  }

  push(item: Item): boolean {
    if (item.mark !== VALUE) return true;
    this.delivered++;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      if (item.claim !== null) {
        // A second waiter asked past the element the first one got.
        if (this.#inHand !== null) this.#finishInHand();
        this.#inHand = item;
      }
      waiter.resolve({ done: false, value: item.value });
      return true;
    }
    this.#buffer.push(item);
    if (this.#capacity !== 0 && this.#buffer.length >= this.#capacity) {
      this.#blocked = true;
      return false;
    }
    return true;
  }

  end(): void {
    const run = this.#run!;
    // A queued next() has already asked past the element in hand.
    if (this.#inHand !== null && this.#waiters.length > 0) {
      settleDone(this.#inHand);
      this.#inHand = null;
    }
    // A settling source's elements buffered or in hand are not delivered yet: the run waits for them.
    if (run.settles && (this.#buffer.length > 0 || this.#inHand !== null)) this.#endPending = true;
    else run.consumerEnded();
  }

  /** The consumer asked past the element in its hand: it is delivered (docs/design.md §17). */
  #finishInHand(): void {
    settleDone(this.#inHand!);
    this.#inHand = null;
    if (this.#endPending && this.#buffer.length === 0) {
      this.#endPending = false;
      this.#run!.consumerEnded();
    }
  }

  /** What a `next()` gets once the run has settled and nothing is buffered. */
  #settledResult(): Promise<IteratorResult<unknown>> {
    const failure = this.#failure;
    if (failure === null) return Promise.resolve(DONE);
    this.#failure = null;
    return Promise.reject(failure.error);
  }

  #onSettle(): void {
    this.#settled = true;
    // Settled by the sweep, if the run ended without the consumer asking past it.
    this.#inHand = null;
    const run = this.#run!;
    const leaving = this.#leaving;
    if (leaving !== null) {
      // The consumer left: whatever happened meanwhile, it only wants the teardown done.
      this.#buffer.clear();
      this.#inHand = null;
      this.#leaving = null;
      for (const done of leaving) done();
    } else if (run.failed) {
      this.#buffer.clear();
      this.#failure = { error: run.error };
      // Nobody may read again to learn of it (a stream pulls only when read): tell now.
      if (this.#waiters.length === 0) this.#onFailed?.(run.error);
    } else if (run.failures !== null) {
      // Collected failures are thrown after the last element: never lost silently.
      this.#failure = { error: run.collectedErrors([]) };
    }
    this.#settleWaiters();
  }

  /** Settles queued `next()` calls in order: the error to the first, the end to the rest. */
  #settleWaiters(): void {
    const waiters = this.#waiters;
    for (let waiter = waiters.shift(); waiter !== undefined; waiter = waiters.shift()) {
      const failure = this.#failure;
      if (failure === null) {
        waiter.resolve(DONE);
      } else {
        this.#failure = null;
        waiter.reject(failure.error);
      }
    }
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new IteratorSink(1, null, () => null));
anchorShape(new Waiter(() => undefined, () => undefined));
