import { createBatchNode, type BatchNode } from "../nodes/batch-node.js";
import { createSourceNode } from "../nodes/source-node.js";
import type { Producer, Receiver } from "./flow.js";
import { END, Item, VALUE } from "./item.js";
import { Run, type RunPart } from "./run.js";
import { Claim } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";
import type { StageCounters } from "./stage-counters.js";

// Never written to: only copied (not frozen: slice() of a frozen array is several times slower).
const NO_VALUES: readonly unknown[] = [];

/**
 * `batch(size, { maxWait })`: collects elements into arrays in arrival order and emits one
 * when it is full or `maxWait` ms after its first element, never an empty one, and the last
 * partial one at the end. Memory: the batch being filled plus at most one full batch waiting
 * for downstream; with both, it refuses input (backpressure). Batches get fresh index paths
 * `[k]` (behind a concat, with its prefix): ordering restarts here, so the markers of the
 * input are not needed and not forwarded (docs/design.md §8).
 */
export class BatchStage implements Receiver, Producer, RunPart, StageCounters {
  readonly name = "batch";
  out!: Receiver;
  upstream!: Producer;
  nextPart: RunPart | null = null;

  readonly #run: Run;
  readonly #size: number;
  readonly #maxWait: number | undefined;
  /** Whether an `ordered()` downstream needs the end marker. */
  readonly #markers: boolean;
  /** The batch being filled; its `maxWait` timer runs while it is not empty. */
  #current: unknown[] | null = null;
  /** A batch ready while downstream was full: pushed on `resume()`. */
  #held: unknown[] | null = null;
  /** The claims of the current batch's elements, when its source settles (docs/design.md §17). */
  #currentClaims: Claim[] | null = null;
  /** The claims of the held batch's elements. */
  #heldClaims: Claim[] | null = null;
  /** The current batch reached `maxWait` while another was held: it goes right after. */
  #due = false;
  #downstreamFull = false;
  #upstreamPaused = false;
  #inputEnded = false;
  #finished = false;
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #onTimerFn: (() => void) | null = null;

  constructor(run: Run, node: BatchNode, markers: boolean) {
    this.#run = run;
    this.#size = node.size;
    this.#maxWait = node.maxWait;
    this.#markers = markers;
  }

  // ---- Receiver ----------------------------------------------------------------------

  push(item: Item): boolean {
    if (this.#run.closing) return false;
    if (item.mark !== VALUE) return true;
    this.taken++;
    let current = this.#current;
    if (current === null) {
      // A slice, not a literal: batches outlive their run's bookkeeping (docs/design.md §14).
      current = this.#current = NO_VALUES.slice();
      if (this.#maxWait !== undefined) this.#timer = setTimeout((this.#onTimerFn ??= () => this.#timedOut()), this.#maxWait);
    }
    current.push(item.value);
    // The batch takes over the element's reference; the batch's item will hold a group claim.
    if (item.claim !== null) {
      (this.#currentClaims ??= []).push(item.claim);
      item.claim = null;
    }
    if (current.length >= this.#size) this.#release();
    if (this.#current === null || this.#current.length < this.#size) return true;
    // A full batch held and another full: wait for downstream.
    this.#upstreamPaused = true;
    return false;
  }

  end(): void {
    this.#inputEnded = true;
    this.#finishIfDone();
  }

  // ---- Producer ----------------------------------------------------------------------

  resume(): void {
    if (this.#run.closing) return;
    this.#downstreamFull = false;
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      const claims = this.#heldClaims;
      this.#heldClaims = null;
      this.#emit(held, claims);
    }
    const current = this.#current;
    if (current !== null && (this.#due || current.length >= this.#size)) this.#release();
    if (this.#finishIfDone()) return;
    if (this.#upstreamPaused && (this.#current === null || this.#current.length < this.#size)) {
      this.#upstreamPaused = false;
      this.upstream.resume();
    }
  }

  // ---- RunPart -----------------------------------------------------------------------

  start(): void {}

  close(): void {
    clearTimeout(this.#timer);
    this.cancelled += this.inFlight;
    this.#current = null;
    this.#held = null;
    this.#currentClaims = null;
    this.#heldClaims = null;
    if (this.#finished) return;
    this.#finished = true;
    this.#run.partDone();
  }

  // ---- StageCounters: declared here, not inherited (docs/design.md §18) ----------------

  taken = 0;
  done = 0;
  emitted = 0;
  dropped = 0;
  skipped = 0;
  failed = 0;
  cancelled = 0;
  retried = 0;
  timedOut = 0;
  recovered = 0;

  get statsKind(): "batch" {
    return "batch";
  }

  /** Always 0: elements go straight into the batch being filled. */
  get waiting(): number {
    return 0;
  }

  /** Elements of the batch being filled and of the one held for a full downstream. */
  get inFlight(): number {
    return (this.#current?.length ?? 0) + (this.#held?.length ?? 0);
  }

  /** One batch forms at a time. */
  get limit(): number {
    return 1;
  }

  // ---- batches -----------------------------------------------------------------------

  /** The current batch is ready: push it, or hold it while downstream is full (one at most). */
  #release(): void {
    const batch = this.#current!;
    if (this.#held !== null) {
      this.#due = true;
      return;
    }
    clearTimeout(this.#timer);
    const claims = this.#currentClaims;
    this.#current = null;
    this.#currentClaims = null;
    this.#due = false;
    if (this.#downstreamFull) {
      this.#held = batch;
      this.#heldClaims = claims;
    } else {
      this.#emit(batch, claims);
    }
  }

  #emit(batch: unknown[], claims: Claim[] | null): void {
    this.done += batch.length;
    this.emitted++;
    const claim = claims === null ? null : new Claim(null, undefined, claims);
    if (!this.out.push(new Item(batch, this.#count++, null, null, VALUE, claim))) this.#downstreamFull = true;
  }

  #timedOut(): void {
    this.#timer = undefined;
    if (this.#run.closing || this.#current === null) return;
    this.#release();
    this.#finishIfDone();
  }

  /** Ends downstream once the input has ended and every batch has gone; returns whether it did. */
  #finishIfDone(): boolean {
    if (!this.#inputEnded || this.#finished || this.#run.closing) return false;
    if (this.#current !== null) this.#release();
    // Emitting the last batch can tear the run down synchronously (a throwing f downstream),
    // which has already finished this stage through close().
    if (this.#finished || this.#run.closing) return false;
    if (this.#held !== null || this.#current !== null) return false;
    this.#finished = true;
    if (this.#markers) this.out.push(new Item(this.#count, -1, null, null, END, null));
    this.out.end();
    this.#run.partDone();
    return true;
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new BatchStage(new Run(undefined), createBatchNode(createSourceNode([]), 1, undefined), false));
