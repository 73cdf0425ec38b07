import { BoundedQueue } from "../bounded-queue.js";
import { describeValue } from "../describe-value.js";
import { TimeoutError } from "../errors.js";
import type { ConcurrencyWaiter } from "../concurrency-limiter.js";
import { RateLimiter, type RateWaiter } from "../rate-limiter.js";
import { createSourceNode } from "../nodes/source-node.js";
import { createStageNode, type StageKind, type StageNode } from "../nodes/stage-node.js";
import { isPushbackError, maxWorkers, type TimeoutPolicy } from "../nodes/stage-settings.js";
import { AdaptiveCalls } from "./adaptive-calls.js";
import { CallSlot } from "./call-slot.js";
import { ElementCosts } from "./element-costs.js";
import { ElementOutcomes, type OutcomeStage, type PendingRetry } from "./element-outcomes.js";
import { Expansion, anchorExpansion } from "./expansion.js";
import type { Producer, Receiver } from "./flow.js";
import { DROP, END, Item, VALUE, pathOf } from "./item.js";
import { KeyGate } from "./key-gate.js";
import { readableKind, type ReadableKind } from "./iterable-reader.js";
import { Run, type RunPart } from "./run.js";
import { settleDone, settleFailed } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";
import type { StageCounters } from "./stage-counters.js";
import { StageHooks, type HookedStage } from "./stage-hooks.js";
import { CallContext, type CallOwner } from "./stage-info.js";
import { isPromiseLike, nativeThen, whenSettled } from "./thenable.js";

type Fn = (value: unknown, ctx: unknown) => unknown;

/**
 * One map, filter, flatMap or each stage of a run. Push-based: an arriving element goes
 * straight to `f` when fewer than `workers` slots are busy, else waits in a FIFO queue of at
 * most `maxsize`; a sync result is handled inline, a promise with one `then` on prebound
 * callbacks. A slot stays busy until its output is accepted downstream, so a stalled
 * consumer stops this stage (backpressure) instead of growing a buffer (docs/design.md §5, §6).
 * Its stats counters are bumped where `#busy` goes up or down (docs/design.md §18).
 */
export class WorkerStage implements Receiver, Producer, RunPart, CallOwner, HookedStage, RateWaiter, ConcurrencyWaiter, OutcomeStage, StageCounters {
  /** Where this stage's outputs go. */
  out!: Receiver;
  /** What to resume when the input queue has room again. */
  upstream!: Producer;
  nextPart: RunPart | null = null;

  readonly run: Run;
  readonly name: string;
  /** Per-call limit in ms, or `undefined`. */
  readonly timeout: number | undefined;
  readonly #kind: StageKind;
  readonly #fn: Fn;
  readonly #workers: number;
  readonly #maxsize: number;
  readonly #onTimeout: TimeoutPolicy;
  /** Whether an `ordered()` downstream needs drop and end markers. */
  readonly #markers: boolean;
  readonly #hooks: StageHooks;
  /** The stage's rate limit, or `null` (then the check costs one comparison per call). */
  readonly #limiter: RateLimiter | null;
  /** Retries and `onError`, or `null` for neither: a failure then fails the run (§7). */
  readonly #outcomes: ElementOutcomes | null;
  /** Whether calls note when an element's first attempt started (only for `maxRetryTime`). */
  readonly #clocked: boolean;
  /** Per-key order, or `null` without `key` (then it costs a comparison in `push` and one in `#free`). */
  readonly #gate: KeyGate | null;
  /** An adaptive limit's timing of calls, or `null` for fixed `workers` (then `#workers` is the limit). */
  readonly #adaptive: AdaptiveCalls | null;
  /** The rate-limit units of each call, or `null` for 1 each. */
  readonly #costs: ElementCosts | null;
  /** Whether an element needs a turn to start (a rate limit or an adaptive limit): one check for neither. */
  readonly #gated: boolean;

  readonly #queue = new BoundedQueue<Item>();
  /** Outputs that finished while downstream was full; each still holds its slot. */
  #outbox: BoundedQueue<Item> | null = null;
  /** Slots taken: calls running, outputs in the outbox, flatMap expansions in progress. */
  #busy = 0;
  #downstreamFull = false;
  #upstreamPaused = false;
  #inputEnded = false;
  #finished = false;
  #pumping = false;
  /** Whether `onStart` has succeeded (or there is none), so calls may start. */
  #ready = false;
  /** Settled slots for reuse, linked through `nextFree` (no array per run: docs/design.md §14). */
  #freeSlots: CallSlot | null = null;
  /** Timed calls in flight, so teardown can abort their signals without listeners. */
  #timedSlots: Set<CallSlot> | null = null;
  #expansions: Set<Expansion> | null = null;
  /** Signals handed to untimed calls still in flight, so teardown can abort them. */
  #liveControllers: Set<AbortController> | null = null;

  constructor(run: Run, node: StageNode, markers: boolean) {
    const settings = node.settings;
    this.run = run;
    this.name = settings.name;
    this.timeout = settings.timeout;
    this.#kind = node.kind;
    this.#costs = settings.cost === undefined ? null : new ElementCosts(settings.name, settings.cost);
    this.#fn = this.#costs === null ? (node.fn as Fn) : this.#costs.wrap(node.fn as Fn);
    this.#workers = maxWorkers(settings.workers);
    this.#maxsize = settings.maxsize;
    this.#onTimeout = settings.onTimeout;
    this.#markers = markers;
    this.#hooks = new StageHooks(this, settings);
    const rateLimit = settings.rateLimit;
    this.#limiter =
      rateLimit === undefined ? null : rateLimit instanceof RateLimiter ? rateLimit : new RateLimiter(rateLimit.limit, rateLimit.interval);
    const retry = settings.retry;
    this.#outcomes =
      retry === undefined && settings.onError === "fail" && settings.fallback === undefined
        ? null
        : new ElementOutcomes(this, settings.onError, retry, settings.fallback);
    this.#clocked = retry !== undefined && retry.maxRetryTime !== Infinity;
    this.#gate = settings.key === undefined ? null : new KeyGate(settings.key);
    this.#adaptive = typeof settings.workers === "number" ? null : new AdaptiveCalls(run, settings.workers, settings.isPushback);
    this.#gated = this.#limiter !== null || this.#adaptive !== null;
  }

  // ---- Receiver ----------------------------------------------------------------------

  push(item: Item): boolean {
    if (this.run.closing) return false;
    if (item.mark !== VALUE) {
      // Markers are not elements: they bypass the workers and the bound.
      if (!this.out.push(item)) this.#downstreamFull = true;
    } else if (this.#gate !== null) {
      return this.#pushKeyed(item, this.#gate);
    } else if (this.#busy < this.#workers && this.#ready && (!this.#gated || this.#turn(item))) {
      this.#busy++;
      this.#call(item, 1, 0);
    } else {
      this.#queue.push(item);
    }
    if (this.#maxsize !== 0 && this.#queue.length >= this.#maxsize) {
      this.#upstreamPaused = true;
      return false;
    }
    return true;
  }

  end(): void {
    this.#inputEnded = true;
    this.checkFinished();
  }

  // ---- Producer ----------------------------------------------------------------------

  resume(): void {
    if (this.run.closing) return;
    this.#downstreamFull = false;
    const outbox = this.#outbox;
    if (outbox !== null) {
      while (outbox.length > 0 && !this.#downstreamFull) {
        const item = outbox.shift()!;
        this.#free(item);
        this.done++;
        this.emitted++;
        if (!this.out.push(item)) this.#downstreamFull = true;
      }
    }
    if (!this.#downstreamFull && this.#expansions !== null) {
      for (const expansion of this.#expansions) {
        if (this.#downstreamFull || this.run.closing) break;
        if (expansion.paused) expansion.resume();
      }
    }
    this.#pump();
  }

  // ---- RunPart -----------------------------------------------------------------------

  start(): void {
    this.#hooks.start();
  }

  close(): void {
    this.#limiter?.cancel(this);
    this.#adaptive?.limiter.cancel(this);
    if (this.#outcomes !== null) {
      const waiting = this.#outcomes.close();
      this.#busy -= waiting;
      this.cancelled += waiting;
    }
    this.#queue.clear();
    this.#gate?.clear();
    if (this.#outbox !== null) {
      this.#busy -= this.#outbox.length;
      this.cancelled += this.#outbox.length;
      this.#outbox.clear();
    }
    if (this.#timedSlots !== null) {
      for (const slot of this.#timedSlots) slot.controller?.abort(this.run.reason);
    }
    if (this.#liveControllers !== null) {
      for (const controller of this.#liveControllers) controller.abort(this.run.reason);
      this.#liveControllers.clear();
    }
    if (this.#expansions !== null) {
      const expansions = [...this.#expansions];
      this.#expansions.clear();
      for (const expansion of expansions) expansion.stop();
    }
    this.checkFinished();
  }

  // ---- RateWaiter --------------------------------------------------------------------

  /** The rate limiter counted a start for this stage: start the next queued element. */
  granted(): void {
    if (this.run.closing || !this.#ready || this.#busy >= this.#workers || this.#queue.length === 0 || (this.#adaptive !== null && !this.#adaptive.limiter.take(this))) {
      this.#limiter!.refund();
      return;
    }
    this.#busy++;
    this.#call(this.#queue.shift()!, 1, 0);
    this.#pump();
  }

  // ---- ConcurrencyWaiter ------------------------------------------------------------

  /** The adaptive limit has room again: start what fits. */
  concurrencyFreed(): void {
    this.#pump();
  }

  /**
   * Takes a turn for `item` from the adaptive limit and then the rate limit (for its cost),
   * or neither: false leaves the stage waiting for the one that said no.
   */
  #turn(item: Item): boolean {
    const adaptive = this.#adaptive;
    if (adaptive !== null && !adaptive.limiter.take(this)) return false;
    if (this.#limiter === null || this.#limiter.acquire(this, this.#unitsOf(item))) return true;
    adaptive?.limiter.release();
    return false;
  }

  /** The rate-limit units a call on `item` takes: its `cost`, or 1 without one. */
  #unitsOf(item: Item): number {
    return this.#costs === null ? 1 : this.#costs.unitsOf(item);
  }

  /** `ctx.charge(units)`: adds the units to the rate limit, if the stage has one. */
  charge(units: number): void {
    this.#limiter?.charge(units);
  }

  // ---- HookedStage -------------------------------------------------------------------

  /** `onStart` succeeded: calls may start (unless the run is already closing). */
  hooksReady(): void {
    if (this.run.closing) {
      this.checkFinished();
      return;
    }
    this.#ready = true;
    this.#pump();
  }

  /** Finishes the stage (and runs `onDone`) once nothing is running or owed. */
  checkFinished(): void {
    const hooks = this.#hooks;
    if (this.#finished || !hooks.called || hooks.pending || this.#busy > 0) return;
    if (!this.run.closing && (!this.#inputEnded || this.#queue.length > 0 || !this.#ready)) return;
    // Mark finished before ending downstream: a downstream onDone that throws tears the run
    // down synchronously, and that teardown must not finish this stage a second time.
    this.#finished = true;
    if (!this.run.closing) this.out.end();
    hooks.finish();
  }

  // ---- CallOwner (signals of untimed calls) -------------------------------------------

  /** A controller for one untimed call's `ctx.signal`, tracked until the call settles. */
  controllerFor(): AbortController {
    const controller = new AbortController();
    if (this.run.closing) controller.abort(this.run.reason);
    else (this.#liveControllers ??= new Set()).add(controller);
    return controller;
  }

  /** The untimed call that got `controller` has settled. */
  releaseController(controller: AbortController): void {
    this.#liveControllers?.delete(controller);
  }

  // ---- calls -------------------------------------------------------------------------

  /** Calls `f` on `item` in a slot already counted busy: attempt `attempt`, the first of which started at `firstStart`. */
  #call(item: Item, attempt: number, firstStart: number): void {
    // An element is taken once; each later attempt at it is a retry (docs/design.md §18).
    if (attempt === 1) this.taken++;
    else this.retried++;
    // A timed call needs its slot (and so its own signal) before f runs.
    const slot = this.timeout === undefined ? null : this.#takeSlot(item);
    const ctx = new CallContext(this.name, slot ?? this, item, attempt, attempt === 1 && this.#clocked ? Date.now() : firstStart);
    const startedAt = this.#adaptive === null ? 0 : this.#adaptive.started(attempt);
    // The hook's values are copied onto each ctx rather than put on a per-run prototype:
    // a class per run would give every run new hidden classes and make ctx reads megamorphic.
    const context = this.#hooks.context;
    if (context !== undefined) Object.assign(ctx, context);
    let result: unknown;
    try {
      result = this.#fn(item.value, ctx);
    } catch (error) {
      this.#adaptive?.failed(startedAt, error, ctx);
      CallContext.release(ctx);
      if (slot !== null) this.#releaseSlot(slot);
      if (this.#outcomes === null) {
        this.failRun(item, error, false);
      } else {
        this.#outcomes.failed(item, error, attempt, CallContext.firstStart(ctx), -1, true);
      }
      return;
    }
    // An iterable is read, even when it is also thenable (a Pipeline): docs/behaviour.md §9.3.
    const kind = this.#kind === "flatMap" ? expansionKind(result) : undefined;
    if (kind !== undefined || !isPromiseLike(result)) {
      if (this.#adaptive !== null) this.#adaptive.succeeded(startedAt, ctx);
      if (this.run.closing) {
        // f itself started the teardown (say, by aborting the caller's signal): drop its output
        // (an iterable not yet read has run none of its code, so there is nothing to close).
        CallContext.release(ctx);
        if (slot !== null) this.#releaseSlot(slot);
        this.#busy--;
        this.cancelled++;
        this.checkFinished();
      } else if (this.#kind === "flatMap") {
        this.#expand(item, result, kind, ctx, slot);
      } else {
        CallContext.release(ctx);
        if (slot !== null) this.#releaseSlot(slot);
        this.#complete(item, result);
      }
      return;
    }
    const pending = slot ?? this.#takeSlot(item);
    pending.ctx = ctx;
    pending.startedAt = startedAt;
    if (this.timeout !== undefined) pending.timer = setTimeout(pending.onTimeout, this.timeout);
    try {
      // The common case inline: a native promise settles once, so it needs no adoption.
      if (result.then === nativeThen) result.then(pending.onOk, pending.onError);
      else whenSettled(result, pending.onOk, pending.onError);
    } catch (error) {
      // A non-promise that inherits the builtin then, or a species constructor that throws.
      this.#adaptive?.limiter.release();
      this.#releaseSlot(pending);
      this.failRun(item, error, false);
    }
  }

  /** A call's promise fulfilled. */
  callFulfilled(slot: CallSlot, value: unknown): void {
    const item = slot.item!;
    if (this.#adaptive !== null) this.#adaptive.succeeded(slot.startedAt, slot.ctx!);
    if (this.run.closing) {
      this.#releaseSlot(slot);
      this.#busy--;
      this.cancelled++;
      this.checkFinished();
      return;
    }
    if (this.#kind === "flatMap") {
      clearTimeout(slot.timer);
      const ctx = slot.ctx!;
      slot.ctx = null;
      // A timed stage's slot stays with the expansion: its timer bounds each wait for an item.
      if (this.timeout === undefined) this.#releaseSlot(slot);
      this.#expand(item, value, expansionKind(value), ctx, this.timeout === undefined ? null : slot);
    } else {
      this.#releaseSlot(slot);
      this.#complete(item, value);
    }
    this.#pump();
  }

  /** A call's promise rejected. */
  callRejected(slot: CallSlot, error: unknown): void {
    const outcomes = this.#outcomes;
    const item = slot.item!;
    if (this.#adaptive !== null) this.#adaptive.failed(slot.startedAt, error, slot.ctx);
    if (outcomes === null) {
      this.#releaseSlot(slot);
      this.failRun(item, error, false);
      return;
    }
    const ctx = slot.ctx!;
    this.#releaseSlot(slot);
    outcomes.failed(item, error, ctx.attempt, CallContext.firstStart(ctx), -1, false);
    this.#pump();
  }

  /**
   * A call, or the wait for an expansion's next item, ran past `timeout`: abandon
   * it, then fail the run or drop the element (keeping an expansion's children so far).
   */
  callTimedOut(slot: CallSlot): void {
    const item = slot.item!;
    const expansion = slot.expansion;
    // Abandoned, never reused: the call (or the iterator's pending next()) may still settle.
    slot.abandoned = true;
    this.timedOut++;
    this.#timedSlots!.delete(slot);
    const error = new TimeoutError(this.name, this.timeout!, pathOf(item));
    slot.timeoutError = error;
    // An expansion's wait for its next item is not a call: its call settled already.
    if (this.#adaptive !== null && expansion === null) this.#adaptive.failed(slot.startedAt, error, slot.ctx);
    slot.controller?.abort(error);
    if (expansion !== null) {
      expansion.timedOut();
      this.#forget(expansion);
    }
    if (this.run.closing) {
      this.#busy--;
      this.cancelled++;
      this.checkFinished();
    } else if (this.#onTimeout === "skip") {
      this.skipped++;
      // Skipped, not finished: a settling source learns that the element failed.
      settleFailed(item, error);
      if (expansion !== null) this.#endExpansion(item, expansion.count);
      else this.#drop(item);
      this.#pump();
    } else if (this.#outcomes !== null) {
      // An element failure like a rejection: retried, or given up under onError.
      if (expansion !== null) this.#outcomes.failed(item, error, expansion.attempt, expansion.firstStart, expansion.count, false);
      else this.#outcomes.failed(item, error, slot.ctx!.attempt, CallContext.firstStart(slot.ctx!), -1, false);
      this.#pump();
    } else {
      this.failRun(item, error, false);
    }
  }

  /** Handles a map, filter or each result for `item`; frees the slot unless the output must wait. */
  #complete(item: Item, result: unknown): void {
    switch (this.#kind) {
      case "map":
        item.value = result;
        this.#deliver(item);
        return;
      case "filter":
        if (result) {
          this.#deliver(item);
        } else {
          this.done++;
          this.dropped++;
          this.#drop(item);
        }
        return;
      case "each":
      case "flatMap": // never here (its result is an expansion), listed for exhaustiveness
        this.done++;
        this.#drop(item);
        return;
      default:
        // Exhaustive: a new stage kind fails to compile until it is handled above.
        this.#kind satisfies never;
    }
  }

  #deliver(item: Item): void {
    if (this.#downstreamFull) {
      (this.#outbox ??= new BoundedQueue<Item>()).push(item);
      return;
    }
    this.#free(item);
    this.done++;
    this.emitted++;
    if (!this.out.push(item)) this.#downstreamFull = true;
  }

  /** Frees the slot of an element that leaves without output (the caller counts how it ended). */
  #drop(item: Item): void {
    this.#free(item);
    if (item.claim !== null) settleDone(item);
    if (!this.#markers) return;
    item.mark = DROP;
    item.value = undefined;
    if (!this.out.push(item)) this.#downstreamFull = true;
  }

  /** Frees the slot `item` held and, with `key`, its key: the next element of that key joins the queue. */
  #free(item: Item): void {
    this.#busy--;
    if (this.#gate !== null) {
      const next = this.#gate.release(item);
      if (next !== undefined) this.#queue.push(next);
    }
  }

  // ---- key (docs/design.md §20) ------------------------------------------------------

  /**
   * `push` in a stage with `key`: the element's key is computed once, here; an element whose
   * key is held waits behind it (outside the queue, but within the bound, and without taking
   * a rate-limit turn); the others start or queue as in a stage without `key`.
   */
  #pushKeyed(item: Item, gate: KeyGate): boolean {
    let key: unknown;
    try {
      key = gate.keyOf(item);
    } catch (error) {
      this.#keyFailed(item, error);
      return !this.run.closing;
    }
    // The key function itself may have torn the run down (say, by aborting the caller's signal).
    if (this.run.closing) return false;
    if (gate.admit(item, key)) {
      if (this.#queue.length === 0 && this.#busy < this.#workers && this.#ready && (!this.#gated || this.#turn(item))) {
        this.#busy++;
        this.#call(item, 1, 0);
        // A call that finished inline may have handed its key to a waiting element.
        if (this.#queue.length > 0) this.#pump();
      } else {
        this.#queue.push(item);
      }
    }
    if (this.#maxsize !== 0 && this.#queue.length + gate.held >= this.#maxsize) {
      this.#upstreamPaused = true;
      return false;
    }
    return true;
  }

  /**
   * The key function threw: an element failure, as if `f` had failed on it, except that it
   * is never retried (the same element gives the same key). `f` never runs for it, so it is
   * handled at once, in a slot of its own while its `onError` handler runs.
   */
  #keyFailed(item: Item, error: unknown): void {
    this.#busy++;
    this.taken++;
    if (this.#outcomes === null) this.failRun(item, error, false);
    else this.#outcomes.refused(item, error, true);
  }

  /** Starts queued elements on free slots, wakes a paused producer, and finishes when idle. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const queue = this.#queue;
    while (this.#busy < this.#workers && queue.length > 0 && this.#ready && !this.run.closing) {
      // Without a turn the elements wait in the queue, so backpressure reaches the source.
      if (this.#gated && !this.#turn(queue.peek()!)) break;
      this.#busy++;
      this.#call(queue.shift()!, 1, 0);
    }
    this.#pumping = false;
    if (this.#upstreamPaused && !this.run.closing && (this.#maxsize === 0 || this.waiting < this.#maxsize)) {
      this.#upstreamPaused = false;
      this.upstream.resume();
    }
    this.checkFinished();
  }

  // ---- flatMap -----------------------------------------------------------------------

  /** Starts emitting the children of `result`; the slot stays busy until the expansion ends. */
  #expand(item: Item, result: unknown, kind: ReadableKind | undefined, ctx: CallContext, slot: CallSlot | null): void {
    if (kind === undefined) {
      CallContext.release(ctx);
      if (slot !== null) this.#releaseSlot(slot);
      this.failRun(item, new TypeError(expansionProblem(this.name, result)), false);
      return;
    }
    const expansion = new Expansion(this, item, ctx, slot);
    if (slot !== null) slot.expansion = expansion;
    (this.#expansions ??= new Set()).add(expansion);
    expansion.open(result, kind);
  }

  /** Emits one child of an expansion; returns whether another may follow now. */
  emitChild(child: Item): boolean {
    if (this.run.closing) return false;
    this.emitted++;
    if (!this.out.push(child)) this.#downstreamFull = true;
    return !this.#downstreamFull && !this.run.closing;
  }

  /** An expansion produced all its children. */
  expansionDone(expansion: Expansion, parent: Item, count: number): void {
    this.#forget(expansion);
    this.done++;
    this.#endExpansion(parent, count);
    if (!expansion.inline) this.#pump();
  }

  /** An expansion's iteration failed. */
  expansionFailed(expansion: Expansion, error: unknown): void {
    this.#forget(expansion);
    const outcomes = this.#outcomes;
    if (outcomes !== null) {
      outcomes.failed(expansion.parent, error, expansion.attempt, expansion.firstStart, expansion.count, expansion.inline);
      if (!expansion.inline) this.#pump();
      return;
    }
    this.failRun(expansion.parent, error, expansion.inline);
  }

  /** An expansion stopped by teardown has finished closing its iterator. */
  expansionStopped(expansion: Expansion): void {
    this.#forget(expansion);
    this.#busy--;
    this.cancelled++;
    this.checkFinished();
  }

  /** An expansion has ended (or been stopped): no longer tracked, its call slot free. */
  #forget(expansion: Expansion): void {
    this.#expansions?.delete(expansion);
    if (expansion.slot !== null) this.#releaseSlot(expansion.slot);
  }

  /** Frees the expansion's slot and, with markers, tells `ordered()` how many children it had. */
  #endExpansion(parent: Item, count: number): void {
    this.#free(parent);
    if (parent.claim !== null) settleDone(parent);
    if (this.#markers) {
      parent.mark = END;
      parent.value = count;
      if (!this.out.push(parent)) this.#downstreamFull = true;
    }
  }

  // ---- OutcomeStage (retries and onError) ---------------------------------------------

  /** Drops an element given up on under `onError`, keeping an expansion's children so far. */
  dropFailed(item: Item, emitted: number, inline: boolean): void {
    this.skipped++;
    if (emitted < 0) this.#drop(item);
    else this.#endExpansion(item, emitted);
    if (!inline) this.#pump();
  }

  /** Emits a `fallback` value in place of an element given up on: it is done, and settles so once delivered. */
  emitFallback(item: Item, value: unknown, inline: boolean): void {
    this.recovered++;
    item.value = value;
    this.#deliver(item);
    if (!inline) this.#pump();
  }

  /**
   * Fails the run because of `item` (a failure of `f`, or of a handler or decision about it),
   * freeing its slot. A settling source learns that the element failed, unless the run was
   * already closing, when the failure is likely the teardown's own abort.
   */
  failRun(item: Item, error: unknown, inline: boolean): void {
    this.#busy--;
    if (this.run.closing) {
      this.cancelled++;
    } else {
      this.failed++;
      settleFailed(item, error);
    }
    this.run.fail(error);
    if (!inline) this.checkFinished();
  }

  /** An element's outcome settled during teardown: free its slot. */
  abandon(): void {
    this.#busy--;
    this.cancelled++;
    this.checkFinished();
  }

  /** A back-off ended: the element's next attempt takes its turn from the rate limit, then starts in the slot it kept. */
  restart(retry: PendingRetry): void {
    if (this.#limiter !== null) {
      retry.granted = () => {
        if (retry.cancelled) this.#limiter!.refund();
        else this.#retryNow(retry);
      };
      if (!this.#limiter.acquire(retry, this.#unitsOf(retry.item))) return;
    }
    this.#retryNow(retry);
  }

  /** Teardown reached an element waiting for its next attempt. */
  cancelRetry(retry: PendingRetry): void {
    this.#limiter?.cancel(retry);
  }

  #retryNow(retry: PendingRetry): void {
    this.#outcomes!.retryStarted(retry);
    this.#call(retry.item, retry.attempt, retry.firstStart);
    this.#pump();
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

  get statsKind(): StageKind {
    return this.#kind;
  }

  /** Queued elements, and those waiting behind a busy key (docs/design.md §20). */
  get waiting(): number {
    return this.#gate === null ? this.#queue.length : this.#queue.length + this.#gate.held;
  }

  /** Every busy slot holds one element: a call, an output in the outbox, or an expansion. */
  get inFlight(): number {
    return this.#busy;
  }

  /** Calls allowed in flight now: the adaptive limit, or `workers`. */
  get limit(): number {
    return this.#adaptive === null ? this.#workers : this.#adaptive.limiter.limit;
  }

  // ---- slots -------------------------------------------------------------------------

  #takeSlot(item: Item): CallSlot {
    let slot = this.#freeSlots;
    if (slot !== null) this.#freeSlots = slot.nextFree;
    else slot = new CallSlot(this);
    slot.item = item;
    if (this.timeout !== undefined) (this.#timedSlots ??= new Set()).add(slot);
    return slot;
  }

  /** Returns `slot` to the free list (unless a timeout abandoned it). */
  #releaseSlot(slot: CallSlot): void {
    slot.item = null;
    slot.expansion = null;
    if (slot.ctx !== null) {
      CallContext.release(slot.ctx);
      slot.ctx = null;
    }
    if (this.timeout !== undefined) {
      clearTimeout(slot.timer);
      slot.controller = null;
      this.#timedSlots!.delete(slot);
    }
    if (!slot.abandoned) {
      slot.nextFree = this.#freeSlots;
      this.#freeSlots = slot;
    }
  }
}

/** How a flatMap result can be read; a string cannot (docs/behaviour.md §9.9). */
function expansionKind(result: unknown): ReadableKind | undefined {
  return typeof result === "string" ? undefined : readableKind(result);
}

/** The message for a flatMap result that cannot be read as elements. */
function expansionProblem(stage: string, result: unknown): string {
  if (typeof result === "string") {
    // As TC39's Iterator.prototype.flatMap: a string is almost always a mistake, not a list of characters.
    return (
      `${stage}: f returned a string (${describeValue(result)}), which is not split into characters: ` +
      `return [s] to emit it whole, or [...s] for its characters`
    );
  }
  return `${stage}: f must return an Iterable or AsyncIterable, or a Promise of one (received ${describeValue(result)})`;
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
const anchorStage = new WorkerStage(
  new Run(undefined),
  createStageNode("map", createSourceNode([]), () => undefined, {
    name: "anchor",
    workers: 1,
    maxsize: 1,
    timeout: undefined,
    onTimeout: "error",
    onStart: undefined,
    onDone: undefined,
    rateLimit: undefined,
    onError: "fail",
    retry: undefined,
    key: undefined,
    isPushback: isPushbackError,
    cost: undefined,
    fallback: undefined,
  }),
  false,
);
anchorShape(anchorStage);
anchorShape(new CallSlot(anchorStage));
anchorExpansion(anchorStage);
