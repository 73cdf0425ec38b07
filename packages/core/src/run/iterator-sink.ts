import { BoundedQueue } from "../bounded-queue.js";
import type { Producer, Receiver } from "./flow.js";
import { VALUE, type Item } from "./item.js";
import type { Run } from "./run.js";
import { anchorShape } from "./shape-anchors.js";

type Resolve = (result: IteratorResult<unknown>) => void;
type Reject = (reason: unknown) => void;

const DONE: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined });

/**
 * The consumer behind `for await` and `iterate()`: a buffer of at most `capacity` values
 * (`0` = unbounded). `next()` is answered from the buffer when values wait, or handed the
 * next value synchronously when it arrives. `return()` (a `break`) tears the run down and
 * resolves once every in-flight call and hook has settled.
 */
export class IteratorSink implements Receiver, AsyncIterableIterator<unknown> {
  upstream!: Producer;

  readonly #buffer = new BoundedQueue<unknown>();
  readonly #capacity: number;
  #run: Run | null = null;
  readonly #begin: (sink: IteratorSink) => Run | null;
  #blocked = false;
  #resolve: Resolve | null = null;
  #reject: Reject | null = null;
  #settled = false;
  /** An error not yet delivered to a `next()`. */
  #failure: { error: unknown } | null = null;
  #leaving: Array<() => void> | null = null;

  /**
   * @param capacity - how many values may wait for the consumer
   * @param begin - wires and starts the run on the first `next()`; `null` when it cannot start
   */
  constructor(capacity: number, begin: (sink: IteratorSink) => Run | null) {
    this.#capacity = capacity;
    this.#begin = begin;
  }

  /** @internal Binds the run this sink consumes. */
  attach(run: Run): void {
    this.#run = run;
    run.onSettle = () => this.#onSettle();
  }

  /** @internal The run could not start (an already-aborted signal): fail with `reason`. */
  refuse(reason: unknown): void {
    this.#settled = true;
    this.#failure = { error: reason };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#run === null && !this.#settled) this.#begin(this);
    const buffer = this.#buffer;
    if (buffer.length > 0) {
      const value = buffer.shift();
      if (this.#blocked && (this.#capacity === 0 || buffer.length < this.#capacity) && !this.#run!.closing) {
        this.#blocked = false;
        this.upstream.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#settled) {
      const failure = this.#failure;
      if (failure === null) return Promise.resolve(DONE);
      this.#failure = null;
      return Promise.reject(failure.error);
    }
    return new Promise<IteratorResult<unknown>>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    const run = this.#run;
    if (run === null || this.#settled) {
      this.#settled = true;
      this.#failure = null;
      this.#buffer.clear();
      return Promise.resolve(DONE);
    }
    // The consumer is gone: no buffered value of this run may be handed out any more.
    this.#buffer.clear();
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
    const resolve = this.#resolve;
    if (resolve !== null) {
      this.#resolve = this.#reject = null;
      resolve({ done: false, value: item.value });
      return true;
    }
    this.#buffer.push(item.value);
    if (this.#capacity !== 0 && this.#buffer.length >= this.#capacity) {
      this.#blocked = true;
      return false;
    }
    return true;
  }

  end(): void {
    this.#run!.consumerEnded();
  }

  #onSettle(): void {
    this.#settled = true;
    const run = this.#run!;
    const leaving = this.#leaving;
    if (leaving !== null) {
      // The consumer left: whatever happened meanwhile, it only wants the teardown done.
      this.#buffer.clear();
      this.#leaving = null;
      for (const done of leaving) done();
    } else if (run.failed) {
      this.#buffer.clear();
      this.#failure = { error: run.error };
    }
    const resolve = this.#resolve;
    const reject = this.#reject;
    if (resolve === null || reject === null) return;
    this.#resolve = this.#reject = null;
    if (leaving !== null || this.#failure === null) {
      resolve(DONE);
    } else {
      this.#failure = null;
      reject(run.error);
    }
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new IteratorSink(1, () => null));
