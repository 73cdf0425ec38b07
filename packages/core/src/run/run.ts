import type { Ledger } from "./settlement.js";
import { ElementErrors, type ElementError } from "../errors.js";
import type { SignalSource } from "./stage-info.js";
import { anchorShape } from "../shape-anchors.js";
import { isPromiseLike, whenSettled } from "./thenable.js";

/** A part of a run that does asynchronous work and must report when it has fully stopped. */
export interface RunPart {
  /** The next part of the same kind in the run's list (set by {@link Run.addPart}). */
  nextPart: RunPart | null;
  /** Begins work (hooks, pulling). */
  start(): void;
  /** Teardown: start nothing new, abort what is in flight, report done once settled. */
  close(): void;
  /** Sources only: stop pulling, and end the data once what was asked for has come (docs/design.md §22). */
  drain?(): void;
}

/**
 * The shared state of one run: whether it is closing, its first error, its lazy
 * `AbortSignal`, and the count of parts (sources and stages) that have not yet stopped.
 * The run settles once every part has stopped and either the consumer saw the end of the
 * data or the run was torn down.
 */
export class Run implements SignalSource {
  /** Set once teardown begins; nothing new starts afterwards. */
  closing = false;
  /** Whether the run failed; `error` is then what the consumer sees (possibly `undefined`). */
  failed = false;
  /** The first error, or the caller signal's reason. */
  error: unknown = undefined;
  /** Called once when the run settles. */
  onSettle: () => void = noop;
  /**
   * Whether a `take()`-like stage had what it needed: the teardown that follows the consumer's
   * end is then a normal end, not a failure (docs/design.md §26).
   */
  stoppedEarly = false;
  /** Whether a source of this run settles its elements (docs/design.md §17). */
  settles = false;
  /** Element failures collected under `onError: "collect"`, in arrival order; `null` while none. */
  failures: ElementError[] | null = null;
  /** How many collected failures the run keeps; one more fails it (the `maxErrors` run option). */
  maxErrors = DEFAULT_MAX_ERRORS;

  // Linked lists, not arrays: an array literal per run is an allocation site V8 pretenures
  // when runs overlap a scavenge, which made many small runs GC-bound (docs/design.md §14).
  #stages: RunPart | null = null;
  #sources: RunPart | null = null;
  /** Ledgers of settling sources, swept once every part has stopped; `null` when none (or swept). */
  #ledgers: Ledger | null = null;
  #pending = 0;
  #consumerEnded = false;
  #settled = false;
  #reason: unknown = undefined;
  #controller: AbortController | undefined = undefined;
  readonly #callerSignal: AbortSignal | undefined;
  #onCallerAbort: (() => void) | undefined = undefined;

  constructor(callerSignal: AbortSignal | undefined) {
    this.#callerSignal = callerSignal;
  }

  /** The run's signal, created on first read; aborted (with the teardown reason) on teardown. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.closing) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Why the run is being torn down (for aborting signals created late). */
  get reason(): unknown {
    return this.#reason;
  }

  /** Registers a stage or a source; the run will not settle until it reports {@link partDone}. */
  addPart(part: RunPart, isSource: boolean): void {
    if (isSource) {
      part.nextPart = this.#sources;
      this.#sources = part;
    } else {
      part.nextPart = this.#stages;
      this.#stages = part;
    }
    this.#pending++;
  }

  /** Registers a settling source's ledger: its open elements settle before the run does. */
  addLedger(ledger: Ledger): void {
    ledger.nextLedger = this.#ledgers;
    this.#ledgers = ledger;
    this.settles = true;
  }

  /** Keeps the run from settling until a matching {@link partDone} (a `settle` call in progress). */
  hold(): void {
    this.#pending++;
  }

  /**
   * Calls a user callback the run waits for (`onDone`, a source's `settle`), already counted
   * as pending: a throw or a rejection fails the run, and {@link partDone} follows once the
   * callback (and its promise) has settled.
   */
  awaitCallback(call: () => unknown): void {
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      this.fail(error);
      this.partDone();
      return;
    }
    if (!isPromiseLike(result)) {
      this.partDone();
      return;
    }
    whenSettled(
      result,
      () => this.partDone(),
      (error) => {
        this.fail(error);
        this.partDone();
      },
    );
  }

  /**
   * Starts every stage (its `onStart`), then every source. Stages start even when an earlier
   * `onStart` already failed, so that hooks behave the same whether a failure is sync or async.
   */
  start(): void {
    const signal = this.#callerSignal;
    if (signal !== undefined) {
      // The caller's abort fails the run with its reason, which the consumer then sees.
      this.#onCallerAbort = () => this.fail(signal.reason);
      signal.addEventListener("abort", this.#onCallerAbort);
    }
    for (let stage = this.#stages; stage !== null; stage = stage.nextPart) stage.start();
    for (let source = this.#sources; source !== null && !this.closing; source = source.nextPart) source.start();
    this.#checkSettled();
  }

  /** Fails the run with `error`, unless it is already closing (later errors are dropped). */
  fail(error: unknown): void {
    if (this.closing) return;
    this.failed = true;
    this.error = error;
    this.#teardown(error);
  }

  /**
   * Keeps a failure collected by a stage; returns false when that would exceed `maxErrors`,
   * in which case the run fails with an {@link ElementErrors} holding them all.
   */
  collectFailure(failure: ElementError): boolean {
    const failures = (this.failures ??= []);
    failures.push(failure);
    if (failures.length <= this.maxErrors) return true;
    this.fail(new ElementErrors(failures, [], `more than ${this.maxErrors} element failures were collected (maxErrors)`));
    return false;
  }

  /** The error a run that ended with collected failures reports, with the `results` it delivered. */
  collectedErrors<T>(results: T[]): ElementErrors<T> {
    const failures = this.failures!;
    const count = failures.length;
    return new ElementErrors(failures, results, `${count} element${count === 1 ? "" : "s"} failed (first: ${failures[0]!.message})`);
  }

  /** The `drain` signal aborted: every source stops pulling; what was taken goes on (docs/design.md §22). */
  drain(): void {
    if (this.closing) return;
    for (let source = this.#sources; source !== null; source = source.nextPart) source.drain?.();
  }

  /** The consumer stopped reading (`break`, `return`, a throw in the loop body). */
  leave(): void {
    if (this.closing) return;
    this.#teardown(new DOMException("The consumer stopped reading the pipeline", "AbortError"));
  }

  /**
   * A `take()`-like stage is satisfied and has ended its downstream: once the consumer has
   * received that end, what is still upstream is torn down ({@link consumerEnded}).
   */
  stopEarly(): void {
    this.stoppedEarly = true;
  }

  /** The consumer received the end of the data. */
  consumerEnded(): void {
    this.#consumerEnded = true;
    // The end came from a take(): stop what is upstream of it, as a normal end (docs/design.md §26).
    if (this.stoppedEarly && !this.closing) this.#teardown(new DOMException("The pipeline stopped early", "AbortError"));
    this.#checkSettled();
  }

  /** A part has fully stopped. */
  partDone(): void {
    this.#pending--;
    this.#checkSettled();
  }

  #teardown(reason: unknown): void {
    this.closing = true;
    // abort(undefined) would give every signal a different fresh AbortError: make one, once.
    this.#reason = reason === undefined ? new DOMException("The pipeline run failed", "AbortError") : reason;
    this.#controller?.abort(this.#reason);
    for (let part = this.#stages; part !== null; part = part.nextPart) part.close();
    for (let part = this.#sources; part !== null; part = part.nextPart) part.close();
    this.#checkSettled();
  }

  #checkSettled(): void {
    if (this.#settled || this.#pending > 0 || !(this.closing || this.#consumerEnded)) return;
    if (this.#ledgers !== null) {
      // Everything else has stopped: settle the elements still open, then wait for those calls.
      const first = this.#ledgers;
      this.#ledgers = null;
      const reason = this.closing ? this.#reason : new DOMException("The pipeline run ended before the element settled", "AbortError");
      for (let ledger: Ledger | null = first; ledger !== null; ledger = ledger.nextLedger) ledger.sweep(reason);
      if (this.#pending > 0) return;
    }
    this.#settled = true;
    if (this.#onCallerAbort !== undefined) {
      this.#callerSignal!.removeEventListener("abort", this.#onCallerAbort);
      this.#onCallerAbort = undefined;
    }
    this.onSettle();
  }
}

function noop(): void {}

/** The default of the `maxErrors` run option. */
export const DEFAULT_MAX_ERRORS = 10_000;

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new Run(undefined));
