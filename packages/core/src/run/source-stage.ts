import type { SourceNode } from "../nodes/source-node.js";
import { describeValue } from "../nodes/source-node.js";
import type { Producer, Receiver } from "./flow.js";
import { END, Item, VALUE } from "./item.js";
import { ELEMENTS_PER_MACROTASK, scheduleMacrotask } from "./macrotask.js";
import type { RunPart } from "./run.js";
import { isPromiseLike } from "./thenable.js";
import { closeIterator, iteratorResultError } from "./worker-stage.js";
import { createSourceNode } from "../nodes/source-node.js";
import { Run } from "./run.js";
import { anchorShape } from "./shape-anchors.js";

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/**
 * Pulls a run's elements from the user's source, lazily: one element per accepted push,
 * none after downstream says it is full until it resumes. Arrays are read by index, sync
 * iterators in a loop that yields to the event loop every so often, async iterators with
 * one `next()` in flight at a time on prebound callbacks.
 */
export class SourceStage implements Producer, RunPart {
  /** Where elements go. */
  out!: Receiver;
  /** @internal The next part in the run's list. */
  nextPart: RunPart | null = null;

  readonly #run: Run;
  readonly #source: unknown;
  readonly #markers: boolean;
  #array: ArrayLike<unknown> | null = null;
  #iterator: AnyIterator | null = null;
  #async = false;
  /** Elements pulled so far; also the next element's position. */
  #count = 0;
  #paused = false;
  /** Opening (a source promise) or an async `next()` is outstanding: nothing to wait for on close. */
  #pending = false;
  /** Waiting in a macrotask yield: no `next()` is outstanding. */
  #yielding = false;
  #done = false;
  #sinceYield = 0;
  // Callbacks are made on first use: an array source of a small run needs none of them.
  #onNextFn: ((result: IteratorResult<unknown>) => void) | null = null;
  #onErrorFn: ((error: unknown) => void) | null = null;
  #afterYieldFn: (() => void) | null = null;

  get #onNext(): (result: IteratorResult<unknown>) => void {
    return (this.#onNextFn ??= (result) => this.#received(result));
  }

  get #onError(): (error: unknown) => void {
    return (this.#onErrorFn ??= (error) => {
      this.#pending = false;
      if (!this.#done) this.#fail(error);
    });
  }

  get #afterYield(): () => void {
    return (this.#afterYieldFn ??= () => {
      this.#yielding = false;
      this.#pump();
    });
  }

  constructor(run: Run, node: SourceNode, markers: boolean) {
    this.#run = run;
    this.#source = node.source;
    this.#markers = markers;
  }

  start(): void {
    let source = this.#source;
    try {
      if (typeof source === "function" && !isIterableLike(source)) source = (source as () => unknown)();
    } catch (error) {
      this.#fail(error);
      return;
    }
    if (!isIterableLike(source) && isPromiseLike(source)) {
      this.#pending = true;
      source.then(
        (value) => {
          this.#pending = false;
          if (!this.#done) this.#open(value);
        },
        this.#onError,
      );
      return;
    }
    this.#open(source);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#pump();
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    const closing = closeIterator(this.#iterator);
    this.#iterator = null;
    // Wait for return() (a generator's finally) unless a next() that cannot be interrupted is pending.
    if (!this.#pending && isPromiseLike(closing)) {
      closing.then(
        () => this.#run.partDone(),
        () => this.#run.partDone(),
      );
    } else {
      this.#run.partDone();
    }
  }

  #open(source: unknown): void {
    try {
      if (Array.isArray(source)) {
        this.#array = source;
      } else if (hasMethod(source, Symbol.asyncIterator)) {
        this.#iterator = checkIterator(source[Symbol.asyncIterator]());
        this.#async = true;
      } else if (hasMethod(source, Symbol.iterator)) {
        this.#iterator = checkIterator(source[Symbol.iterator]());
      } else if (hasMethod(source, "getReader")) {
        this.#iterator = readerIterator(source as unknown as ReadableStream<unknown>);
        this.#async = true;
      } else {
        throw new TypeError(
          `pipe(): the source must resolve to an array, an Iterable, an AsyncIterable or a ReadableStream (received ${describeValue(source)})`,
        );
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#pending || this.#yielding || this.#done || this.#run.closing) return;
    if (this.#async) {
      this.#requestNext();
      return;
    }
    const array = this.#array;
    const iterator = this.#iterator as Iterator<unknown> | null;
    while (!this.#paused) {
      if (++this.#sinceYield > ELEMENTS_PER_MACROTASK) {
        this.#yield();
        return;
      }
      let value: unknown;
      if (array !== null) {
        if (this.#count >= array.length) return this.#finish();
        value = array[this.#count];
      } else {
        let result: IteratorResult<unknown>;
        try {
          result = iterator!.next();
          if (result === null || typeof result !== "object") throw iteratorResultError(result);
        } catch (error) {
          this.#fail(error);
          return;
        }
        if (result.done) return this.#finish();
        value = result.value;
      }
      if (!this.out.push(new Item(value, this.#count++, null, null, VALUE))) this.#paused = true;
      if (this.#run.closing) return;
    }
  }

  #requestNext(): void {
    if (this.#paused) return;
    if (++this.#sinceYield > ELEMENTS_PER_MACROTASK) {
      this.#yield();
      return;
    }
    this.#pending = true;
    let next: unknown;
    try {
      next = (this.#iterator as AsyncIterator<unknown>).next();
    } catch (error) {
      this.#pending = false;
      this.#fail(error);
      return;
    }
    // Promise.resolve only for odd iterators whose next() is not a promise, to avoid recursion.
    (isPromiseLike(next) ? next : Promise.resolve(next)).then(
      this.#onNext as (value: unknown) => void,
      this.#onError,
    );
  }

  #received(result: IteratorResult<unknown>): void {
    this.#pending = false;
    if (this.#done || this.#run.closing) return;
    if (result === null || typeof result !== "object") return this.#fail(iteratorResultError(result));
    if (result.done) return this.#finish();
    if (!this.out.push(new Item(result.value, this.#count++, null, null, VALUE))) this.#paused = true;
    this.#pump();
  }

  /** Lets timers, I/O and a caller's abort run between long synchronous stretches. */
  #yield(): void {
    this.#sinceYield = 0;
    this.#yielding = true;
    scheduleMacrotask(this.#afterYield);
  }

  #finish(): void {
    this.#done = true;
    this.#iterator = null;
    if (this.#markers) this.out.push(new Item(this.#count, -1, null, null, END));
    this.out.end();
    this.#run.partDone();
  }

  #fail(error: unknown): void {
    this.#run.fail(error);
  }
}

function hasMethod<K extends PropertyKey>(value: unknown, key: K): value is Record<K, () => AnyIterator> {
  return value != null && typeof (value as Record<K, unknown>)[key] === "function";
}

function isIterableLike(value: unknown): boolean {
  return hasMethod(value, Symbol.asyncIterator) || hasMethod(value, Symbol.iterator);
}

function checkIterator(iterator: unknown): AnyIterator {
  if (iterator === null || typeof iterator !== "object" || typeof (iterator as AnyIterator).next !== "function") {
    throw new TypeError(`pipe(): the source's iterator method returned ${describeValue(iterator)}, not an iterator`);
  }
  return iterator as AnyIterator;
}

/** An async iterator over a WHATWG `ReadableStream` for hosts whose streams lack `Symbol.asyncIterator`. */
function readerIterator(stream: ReadableStream<unknown>): AsyncIterator<unknown> {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new SourceStage(new Run(undefined), createSourceNode([]), false));
