import { describeValue } from "../describe-value.js";
import { createSourceNode, type SourceNode } from "../nodes/source-node.js";
import type { Producer, Receiver } from "./flow.js";
import { END, Item, VALUE } from "./item.js";
import { IterableReader, readableKind, type ReaderHost } from "./iterable-reader.js";
import { reopenedSourceError, rememberOpened } from "./one-shot-sources.js";
import { Run, type RunPart } from "./run.js";
import { sizeOf, type CountedSource } from "./progress.js";
import { Ledger } from "./settlement.js";
import { Watermark } from "./watermark.js";
import { anchorShape } from "../shape-anchors.js";
import { isPromiseLike, whenSettled } from "./thenable.js";

/**
 * Pulls a run's elements from the user's source, lazily: one element per accepted push,
 * none after downstream says it is full until it resumes. The reading itself (arrays, sync
 * and async iterators, yielding, closing) is the shared {@link IterableReader}'s.
 */
export class SourceStage implements Producer, RunPart, ReaderHost, CountedSource {
  /** Where elements go. */
  out!: Receiver;
  nextPart: RunPart | null = null;

  readonly #run: Run;
  readonly #source: unknown;
  readonly #markers: boolean;
  readonly #reader: IterableReader;
  /** The open elements of a source that settles, or `null` (docs/design.md §17). */
  readonly #ledger: Ledger | null;
  /** The source is a promise not yet settled: nothing to close. */
  #opening = false;
  #done = false;
  #onClosedFn: (() => void) | null = null;
  /** What the source opened to (an array, an iterable...), for its size in the stats. */
  #opened: unknown = undefined;
  #started = false;
  /** The run drains: nothing more is pulled (docs/design.md §22). */
  #draining = false;

  constructor(run: Run, node: SourceNode, markers: boolean) {
    this.#run = run;
    this.#source = node.source;
    this.#markers = markers;
    this.#reader = new IterableReader(this);
    const settle = node.settle;
    const checkpoint = node.checkpoint;
    if (settle === undefined && checkpoint === undefined) {
      this.#ledger = null;
    } else {
      const ledger = (this.#ledger = new Ledger(run, settle, checkpoint === undefined ? null : new Watermark(run, checkpoint)));
      run.addLedger(ledger);
      // An element handed out as teardown came was taken too: it settles (released) with the rest.
      this.#reader.late = (value) => void ledger.claim(value, this.#reader.count);
    }
  }

  start(): void {
    this.#started = true;
    if (this.#draining) {
      // Drained before it started: nothing is pulled.
      this.readDone();
      return;
    }
    let source = this.#source;
    try {
      if (typeof source === "function" && readableKind(source) === undefined) source = (source as () => unknown)();
    } catch (error) {
      this.#run.fail(error);
      return;
    }
    if (readableKind(source) === undefined && isPromiseLike(source)) {
      this.#opening = true;
      whenSettled(
        source,
        (value) => {
          this.#opening = false;
          if (!this.#done) this.#open(value);
        },
        (error) => {
          this.#opening = false;
          if (!this.#done) this.#run.fail(error);
        },
      );
      return;
    }
    this.#open(source);
  }

  resume(): void {
    this.#reader.resume();
  }

  /** Elements read so far. */
  get pulled(): number {
    return this.#reader.count;
  }

  /** How many elements the opened source has, when it says so without being read. */
  get total(): number | undefined {
    return sizeOf(this.#opened);
  }

  /**
   * The run drains: pull nothing more, close the source (its iterator's `return()`), and end
   * the data once a `next()` already asked for has answered; what was taken goes on.
   */
  drain(): void {
    if (this.#done || this.#draining) return;
    this.#draining = true;
    // From a microtask: the drain signal may be aborted inside the source's own `next()`.
    if (this.#started) queueMicrotask(() => this.#done || this.#reader.drain());
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#reader.close((this.#onClosedFn ??= () => this.#run.partDone()));
  }

  // ---- ReaderHost --------------------------------------------------------------------

  readValue(value: unknown, position: number): boolean {
    const ledger = this.#ledger;
    if (ledger === null) return this.out.push(new Item(value, position, null, null, VALUE, null));
    const claim = ledger.claim(value, position);
    // null: the checkpoint's `position` threw on it, and the run is failing.
    return claim !== null && this.out.push(new Item(value, position, null, null, VALUE, claim));
  }

  readWaiting(): void {}

  readDone(): void {
    // A drain's end can come after teardown closed the source.
    if (this.#done) return;
    this.#done = true;
    if (this.#markers) this.out.push(new Item(this.#reader.count, -1, null, null, END, null));
    this.out.end();
    this.#run.partDone();
  }

  readFailed(error: unknown): void {
    this.#run.fail(error);
  }

  // ---- opening -----------------------------------------------------------------------

  #open(source: unknown): void {
    const reopened = reopenedSourceError(source);
    if (reopened !== undefined) {
      this.#run.fail(reopened);
      return;
    }
    this.#opened = source;
    const kind = readableKind(source);
    if (kind !== undefined) {
      rememberOpened(source, this.#reader.open(source, kind, "the source"));
    } else if (source != null && typeof (source as ReadableStream<unknown>).getReader === "function") {
      let iterator: AsyncIterator<unknown>;
      try {
        iterator = streamIterator(source as ReadableStream<unknown>);
      } catch (error) {
        this.#run.fail(error);
        return;
      }
      rememberOpened(source, false);
      this.#reader.openIterator(iterator);
    } else {
      this.#run.fail(
        new TypeError(
          `the source must resolve to an array, an Iterable, an AsyncIterable or a ReadableStream (received ${describeValue(source)})`,
        ),
      );
    }
  }
}

/** An async iterator over a WHATWG `ReadableStream` for hosts whose streams lack `Symbol.asyncIterator`. */
function streamIterator(stream: ReadableStream<unknown>): AsyncIterator<unknown> {
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
