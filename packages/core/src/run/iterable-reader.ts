import { describeValue } from "../describe-value.js";
import { ELEMENTS_PER_MACROTASK, noteTurn, scheduleMacrotask, shouldYield } from "./macrotask.js";
import { anchorShape } from "../shape-anchors.js";
import { isPromiseLike, nativeThen, whenSettled } from "./thenable.js";

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/** What an {@link IterableReader} reports to: a source stage, or one flatMap expansion. */
export interface ReaderHost {
  /** Takes the value at `position`; returns whether another may be read now (else wait for `resume()`). */
  readValue(value: unknown, position: number): boolean;
  /** An asynchronous `next()` is now outstanding (a flatMap stage starts its step timeout). */
  readWaiting(): void;
  /** The iterable is exhausted. */
  readDone(): void;
  /** `next()` threw or rejected, or gave a result that is not an object. */
  readFailed(error: unknown): void;
}

/** How a value can be read, or `undefined` when it cannot be. */
export type ReadableKind = "array" | "async" | "sync";

/**
 * How `value` can be read. Iterables are recognised before anything else, so a value that is
 * both async-iterable and thenable (a `Pipeline`) is read, not awaited.
 */
export function readableKind(value: unknown): ReadableKind | undefined {
  if (Array.isArray(value)) return "array";
  if (value == null) return undefined;
  if (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") return "async";
  if (typeof (value as Iterable<unknown>)[Symbol.iterator] === "function") return "sync";
  return undefined;
}

/**
 * The one reader of arrays, sync iterators and async iterators, shared by the source stage
 * and flatMap expansions (docs/design.md §7). It reads while its host accepts values; every
 * {@link ELEMENTS_PER_MACROTASK} values, whether they came synchronously or from promises that
 * never wait on real work, it yields a macrotask if the event loop has been kept from turning
 * for too long (`shouldYield`); keeps one async `next()` in
 * flight; and on teardown calls `return()`, deferred until a sync generator has stopped
 * executing (calling it from inside the generator's own code would throw and skip its `finally`).
 */
export class IterableReader {
  /** Values read so far. */
  count = 0;
  /**
   * For a source that settles (docs/design.md §17): takes a value whose `next()` was pending
   * when teardown came, which the run must still settle; and makes teardown wait for that
   * `next()`, so that no value handed out goes unaccounted. `null` otherwise.
   */
  late: ((value: unknown) => void) | null = null;
  /** Teardown waits for a pending `next()` (see `late`): then the iterator's `return()`, then this. */
  #afterPending: (() => void) | null = null;
  #pendingClose: PromiseLike<unknown> | undefined = undefined;

  readonly #host: ReaderHost;
  #array: ArrayLike<unknown> | null = null;
  #iterator: AnyIterator | null = null;
  #async = false;
  /** The host refused the last value; it calls `resume()` when it can take more. */
  #paused = false;
  /** An async `next()` is outstanding. */
  #pending = false;
  /** Waiting in a macrotask yield. */
  #yielding = false;
  /** Inside a sync `next()` call: the iterator's own code is running. */
  #executing = false;
  /** Finished, failed or closed: nothing more is read. */
  #stopped = false;
  /** Teardown came while the iterator was executing; `return()` runs once it stops. */
  #onClosed: (() => void) | null = null;
  #sinceYield = 0;
  // Made on first use: an array read within one macrotask needs none of them.
  #onNextFn: ((result: IteratorResult<unknown>) => void) | null = null;
  #onErrorFn: ((error: unknown) => void) | null = null;
  #afterYieldFn: (() => void) | null = null;
  /** Draining (docs/design.md §22): nothing more is asked for; the read ends once a pending `next()` answers. */
  #draining = false;
  /** The `return()` a drain called while a `next()` was pending, until it settles. */
  #drainClosing: PromiseLike<unknown> | undefined = undefined;

  constructor(host: ReaderHost) {
    this.#host = host;
  }

  /**
   * Opens `value` of the given kind and starts reading. `label` names the iterable in the
   * error for an iterator method that does not return an iterator. Returns whether that
   * method returned `value` itself: then `value` is an iterator, which only one read may use.
   */
  open(value: unknown, kind: ReadableKind, label: string): boolean {
    let selfIterating = false;
    if (kind === "array") {
      this.#array = value as ArrayLike<unknown>;
    } else {
      try {
        const method = kind === "async" ? Symbol.asyncIterator : Symbol.iterator;
        const iterator: unknown = (value as Record<symbol, () => unknown>)[method]!();
        if (iterator === null || typeof iterator !== "object" || typeof (iterator as AnyIterator).next !== "function") {
          throw new TypeError(`${label} has an iterator method that returned ${describeValue(iterator)}, not an iterator`);
        }
        this.#iterator = iterator as AnyIterator;
        selfIterating = iterator === value;
      } catch (error) {
        this.#fail(error);
        return false;
      }
      this.#async = kind === "async";
    }
    this.#read();
    return selfIterating;
  }

  /** Reads an already opened iterator (for sources that are not iterables, such as a stream reader). */
  openIterator(iterator: AsyncIterator<unknown>): void {
    this.#iterator = iterator;
    this.#async = true;
    this.#read();
  }

  /** The host can take values again. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#read();
  }

  /**
   * Teardown, or the end of a failed read: stop reading and close the iterator. `onClosed`
   * runs once its `return()` (a generator's `finally`) has settled, or at once when a `next()`
   * that cannot be interrupted is outstanding or there is nothing (left) to close.
   */
  close(onClosed: () => void): void {
    this.#stopped = true;
    if ((this.#iterator === null && this.#drainClosing === undefined) || this.#onClosed !== null) {
      onClosed();
      return;
    }
    if (this.#executing) {
      this.#onClosed = onClosed;
      return;
    }
    this.#closeIterator(onClosed);
  }

  #closeIterator(onClosed: () => void): void {
    const closing = this.#iterator === null ? this.#drainClosing : closeIterator(this.#iterator);
    this.#iterator = null;
    if (this.#pending && this.late !== null) {
      this.#afterPending = onClosed;
      this.#pendingClose = closing;
      return;
    }
    if (!this.#pending && closing !== undefined) whenSettled(closing, onClosed, onClosed);
    else onClosed();
  }

  /**
   * The run drains: ask for nothing more and close the iterator now (a source waiting for
   * new data, such as a queue, answers its pending `next()` with the end once closed); a
   * value that pending `next()` still brings is taken. The host then hears `readDone()`,
   * once `return()` has settled. Called from a microtask, never inside the iterator's code.
   */
  drain(): void {
    if (this.#stopped || this.#draining) return;
    this.#draining = true;
    if (this.#pending) {
      this.#drainClosing = closeIterator(this.#iterator);
      this.#iterator = null;
    } else if (!this.#yielding) {
      this.#endDrain();
    }
  }

  /** Ends a drained read: closes the iterator (unless a pending `next()` made the drain close it already), then reports done. */
  #endDrain(): void {
    this.#stopped = true;
    const closing = this.#iterator === null ? this.#drainClosing : closeIterator(this.#iterator);
    this.#iterator = null;
    this.#array = null;
    // Teardown during the wait for `return()` waits for it too (see `close`).
    this.#drainClosing = closing;
    const host = this.#host;
    if (closing === undefined) host.readDone();
    else whenSettled(closing, () => host.readDone(), () => host.readDone());
  }

  #read(): void {
    if (this.#pending || this.#yielding || this.#stopped) return;
    if (this.#draining) return this.#endDrain();
    if (this.#paused) return;
    const host = this.#host;
    const array = this.#array;
    for (;;) {
      if (++this.#sinceYield > ELEMENTS_PER_MACROTASK) {
        this.#sinceYield = 0;
        if (shouldYield()) {
          this.#yield();
          return;
        }
      }
      let value: unknown;
      if (array !== null) {
        if (this.count >= array.length) return this.#finish();
        value = array[this.count];
      } else if (this.#async) {
        this.#requestNext();
        return;
      } else {
        let result: IteratorResult<unknown>;
        this.#executing = true;
        try {
          result = (this.#iterator as Iterator<unknown>).next();
        } catch (error) {
          this.#executing = false;
          if (this.#afterExecuting()) return;
          this.#fail(error);
          return;
        }
        this.#executing = false;
        if (this.#afterExecuting()) return;
        if (result === null || typeof result !== "object") return this.#fail(iteratorResultError(result));
        if (result.done) return this.#finish();
        value = result.value;
      }
      if (!host.readValue(value, this.count++)) this.#paused = true;
      if (this.#paused || this.#stopped) return;
    }
  }

  /** After a sync `next()`: runs a close that came meanwhile; returns whether one did. */
  #afterExecuting(): boolean {
    const onClosed = this.#onClosed;
    if (onClosed === null) return false;
    this.#onClosed = null;
    this.#closeIterator(onClosed);
    return true;
  }

  #requestNext(): void {
    this.#pending = true;
    let next: unknown;
    try {
      next = (this.#iterator as AsyncIterator<unknown>).next();
    } catch (error) {
      this.#pending = false;
      this.#fail(error);
      return;
    }
    this.#host.readWaiting();
    // Odd iterators may return a plain result object instead of a promise: it is adopted alike.
    const promise = next as Promise<IteratorResult<unknown>>;
    if (isPromiseLike(promise) && promise.then === nativeThen) promise.then(this.#onNext, this.#onError);
    else whenSettled(promise, this.#onNext, this.#onError);
  }

  get #onNext(): (result: IteratorResult<unknown>) => void {
    return (this.#onNextFn ??= (result) => this.#received(result));
  }

  get #onError(): (error: unknown) => void {
    return (this.#onErrorFn ??= (error) => {
      this.#pending = false;
      if (this.#afterPending !== null) this.#closedAfterPending();
      this.#fail(error);
    });
  }

  #received(result: IteratorResult<unknown>): void {
    this.#pending = false;
    if (this.#stopped) {
      if (this.late !== null && result !== null && typeof result === "object" && !result.done) this.late(result.value);
      if (this.#afterPending !== null) this.#closedAfterPending();
      return;
    }
    if (result === null || typeof result !== "object") return this.#fail(iteratorResultError(result));
    if (result.done) return this.#finish();
    if (!this.#host.readValue(result.value, this.count++)) this.#paused = true;
    this.#read();
  }

  /** The `next()` that teardown waited for has settled: finish closing once `return()` has too. */
  #closedAfterPending(): void {
    const onClosed = this.#afterPending!;
    const closing = this.#pendingClose;
    this.#afterPending = null;
    this.#pendingClose = undefined;
    if (closing !== undefined) whenSettled(closing, onClosed, onClosed);
    else onClosed();
  }

  /** Lets timers, I/O and a caller's abort run between long stretches without a real wait. */
  #yield(): void {
    this.#yielding = true;
    scheduleMacrotask(
      (this.#afterYieldFn ??= () => {
        noteTurn();
        this.#yielding = false;
        this.#read();
      }),
    );
  }

  #finish(): void {
    this.#stopped = true;
    this.#iterator = null;
    this.#host.readDone();
  }

  /** Stops reading; the iterator stays open for the host's `close()` (teardown closes it). */
  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#host.readFailed(error);
  }
}

/**
 * Calls an iterator's `return()` if it has one. Returns its promise (which never rejects)
 * when it is asynchronous; errors it raises are dropped, being later than the run's first.
 */
function closeIterator(iterator: AnyIterator | null): PromiseLike<unknown> | undefined {
  if (iterator === null || typeof iterator.return !== "function") return undefined;
  try {
    const result: unknown = iterator.return();
    if (isPromiseLike(result)) return Promise.resolve(result).then(undefined, () => undefined);
  } catch {
    // A failing return() is a later error than the one that tore the run down: dropped.
  }
  return undefined;
}

/** The error for an iterator whose `next()` returned a non-object, as `for...of` would throw. */
function iteratorResultError(result: unknown): TypeError {
  return new TypeError(`Iterator result ${describeValue(result)} is not an object`);
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(
  new IterableReader({ readValue: () => true, readWaiting: () => undefined, readDone: () => undefined, readFailed: () => undefined }),
);
