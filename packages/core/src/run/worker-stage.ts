import { BoundedQueue } from "../bounded-queue.js";
import { OptionsError, TimeoutError } from "../errors.js";
import type { StageKind, StageNode } from "../nodes/stage-node.js";
import { describeValue } from "../nodes/source-node.js";
import type { Producer, Receiver } from "./flow.js";
import { DROP, END, Item, PathLink, VALUE, pathOf } from "./item.js";
import { ELEMENTS_PER_MACROTASK, scheduleMacrotask } from "./macrotask.js";
import type { Run, RunPart } from "./run.js";
import { CallContext, RESERVED_CONTEXT_KEYS, StageInfo, type CallOwner } from "./stage-info.js";
import { isPromiseLike } from "./thenable.js";
import { createSourceNode } from "../nodes/source-node.js";
import { createStageNode } from "../nodes/stage-node.js";
import { Run as AnchorRun } from "./run.js";
import { anchorShape } from "./shape-anchors.js";

type Fn = (value: unknown, ctx: unknown) => unknown;

/**
 * One map, filter, flatMap or each stage of a run. Push-based: an arriving element goes
 * straight to `f` when fewer than `workers` calls are busy, else waits in a FIFO queue of at
 * most `maxsize`; a sync result is handled inline, a promise with one `.then` on prebound
 * callbacks. A slot stays busy until its output is accepted downstream, so a stalled
 * consumer stops this stage (backpressure) instead of growing a buffer.
 */
export class WorkerStage implements Receiver, Producer, RunPart, CallOwner {
  /** Where this stage's outputs go. */
  out!: Receiver;
  /** What to resume when the input queue has room again. */
  upstream!: Producer;
  /** @internal The next part in the run's list. */
  nextPart: RunPart | null = null;

  readonly run: Run;
  readonly name: string;
  readonly #kind: StageKind;
  readonly #fn: Fn;
  readonly #node: StageNode;
  readonly #workers: number;
  readonly #maxsize: number;
  readonly #timeout: number | undefined;
  /** Whether an `ordered()` downstream needs drop and end markers. */
  readonly #markers: boolean;

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
  /** Whether `onStart` has resolved (or there is none), so calls may start. */
  #ready = false;
  #hookPending = false;
  /** Whether the run has started this stage; a teardown before that must wait for it. */
  #startCalled = false;
  /** Whether `onDone` is owed: set when `onStart` succeeded. */
  #started = false;
  #context: object | undefined = undefined;
  /** Settled slots for reuse, linked through `nextFree` (no array per run: PERF-NOTES §4). */
  #freeSlots: CallSlot | null = null;
  /** Timed calls in flight, so teardown can abort their signals without listeners. */
  #timedSlots: Set<CallSlot> | null = null;
  #expansions: Set<Expansion> | null = null;
  /** Signals handed to untimed calls still in flight, so teardown can abort them. */
  #liveControllers: Set<AbortController> | null = null;

  constructor(run: Run, node: StageNode, markers: boolean) {
    this.run = run;
    this.#node = node;
    this.#kind = node.kind;
    this.#fn = node.fn as Fn;
    this.name = node.settings.name;
    this.#workers = node.settings.workers;
    this.#maxsize = node.settings.maxsize;
    this.#timeout = node.settings.timeout;
    this.#markers = markers;
  }

  // ---- Receiver ----------------------------------------------------------------------

  push(item: Item): boolean {
    if (this.run.closing) return false;
    if (item.mark !== VALUE) {
      // Markers are not elements: they bypass the workers and the bound.
      if (!this.out.push(item)) this.#downstreamFull = true;
    } else if (this.#busy < this.#workers && this.#ready) {
      this.#busy++;
      this.#call(item);
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
    this.#checkFinished();
  }

  // ---- Producer ----------------------------------------------------------------------

  resume(): void {
    if (this.run.closing) return;
    this.#downstreamFull = false;
    const outbox = this.#outbox;
    if (outbox !== null) {
      while (outbox.length > 0 && !this.#downstreamFull) {
        this.#busy--;
        if (!this.out.push(outbox.shift()!)) this.#downstreamFull = true;
      }
    }
    if (!this.#downstreamFull && this.#expansions !== null) {
      for (const expansion of this.#expansions) {
        if (this.#downstreamFull) break;
        if (expansion.paused) expansion.continue();
      }
    }
    this.#pump();
  }

  // ---- RunPart -----------------------------------------------------------------------

  start(): void {
    this.#startCalled = true;
    const onStart = this.#node.settings.onStart;
    if (onStart === undefined) {
      this.#started = true;
      this.#ready = true;
      if (this.run.closing) this.#checkFinished();
      return;
    }
    let result: unknown;
    try {
      result = onStart(new StageInfo(this.name, this.run));
    } catch (error) {
      this.run.fail(error);
      this.#checkFinished();
      return;
    }
    if (isPromiseLike(result)) {
      this.#hookPending = true;
      result.then(
        (value) => this.#onStarted(value),
        (error: unknown) => {
          this.#hookPending = false;
          this.run.fail(error);
          this.#checkFinished();
        },
      );
    } else {
      this.#onStarted(result);
    }
  }

  close(): void {
    this.#queue.clear();
    if (this.#outbox !== null) {
      this.#busy -= this.#outbox.length;
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
      for (const expansion of this.#expansions) expansion.stop();
      this.#expansions.clear();
    }
    this.#checkFinished();
  }

  // ---- CallOwner (signals of untimed calls) -------------------------------------------

  /** @internal A controller for one untimed call's `ctx.signal`, tracked until the call settles. */
  controllerFor(): AbortController {
    const controller = new AbortController();
    if (this.run.closing) controller.abort(this.run.reason);
    else (this.#liveControllers ??= new Set()).add(controller);
    return controller;
  }

  /** @internal */
  releaseController(controller: AbortController): void {
    this.#liveControllers?.delete(controller);
  }

  // ---- calls -------------------------------------------------------------------------

  #call(item: Item): void {
    // A timed call needs its slot (and so its own signal) before f runs.
    const slot = this.#timeout === undefined ? null : this.#takeSlot(item);
    const ctx = new CallContext(this.name, slot ?? this, item);
    // The hook's values are copied onto each ctx rather than put on a per-run prototype:
    // a class per run would give every run new hidden classes and make ctx reads megamorphic.
    if (this.#context !== undefined) Object.assign(ctx, this.#context);
    let result: unknown;
    try {
      result = this.#fn(item.value, ctx);
    } catch (error) {
      CallContext.release(ctx);
      if (slot !== null) this.#releaseSlot(slot);
      this.#busy--;
      this.run.fail(error);
      this.#checkFinished();
      return;
    }
    if (!isPromiseLike(result)) {
      CallContext.release(ctx);
      if (slot !== null) this.#releaseSlot(slot);
      if (this.run.closing) {
        // f itself started the teardown (say, by aborting the caller's signal): drop its output.
        this.#busy--;
        this.#checkFinished();
        return;
      }
      this.#complete(item, result);
      return;
    }
    const pending = slot ?? this.#takeSlot(item);
    pending.ctx = ctx;
    if (this.#timeout !== undefined) pending.timer = setTimeout(pending.onTimeout, this.#timeout);
    try {
      result.then(pending.onOk, pending.onError);
    } catch (error) {
      this.#releaseSlot(pending);
      this.#busy--;
      this.run.fail(error);
      this.#checkFinished();
    }
  }

  /** @internal A call's promise fulfilled. */
  callFulfilled(slot: CallSlot, value: unknown): void {
    const item = slot.item!;
    this.#releaseSlot(slot);
    if (this.run.closing) {
      this.#busy--;
      this.#checkFinished();
      return;
    }
    this.#complete(item, value);
    this.#pump();
  }

  /** @internal A call's promise rejected. */
  callRejected(slot: CallSlot, error: unknown): void {
    this.#releaseSlot(slot);
    this.#busy--;
    this.run.fail(error);
    this.#checkFinished();
  }

  /** @internal A call ran past `timeout`: abandon it, then fail the run or drop the element. */
  callTimedOut(slot: CallSlot): void {
    const item = slot.item!;
    slot.abandoned = true;
    this.#timedSlots!.delete(slot);
    const error = new TimeoutError(this.name, this.#timeout!, pathOf(item));
    slot.timeoutError = error;
    slot.controller?.abort(error);
    if (this.run.closing) {
      this.#busy--;
      this.#checkFinished();
    } else if (this.#node.settings.onTimeout === "skip") {
      this.#drop(item);
      this.#pump();
    } else {
      this.#busy--;
      this.run.fail(error);
      this.#checkFinished();
    }
  }

  /** Handles `f`'s result for `item`; frees the slot unless the output must wait. */
  #complete(item: Item, result: unknown): void {
    switch (this.#kind) {
      case "map":
        item.value = result;
        this.#deliver(item);
        return;
      case "filter":
        if (result) this.#deliver(item);
        else this.#drop(item);
        return;
      case "each":
        this.#drop(item);
        return;
      case "flatMap":
        this.#expand(item, result);
        return;
    }
  }

  #deliver(item: Item): void {
    if (this.#downstreamFull) {
      (this.#outbox ??= new BoundedQueue<Item>()).push(item);
      return;
    }
    this.#busy--;
    if (!this.out.push(item)) this.#downstreamFull = true;
  }

  #drop(item: Item): void {
    this.#busy--;
    if (!this.#markers) return;
    item.mark = DROP;
    item.value = undefined;
    if (!this.out.push(item)) this.#downstreamFull = true;
  }

  /** Starts queued elements on free slots, wakes a paused producer, and finishes when idle. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const queue = this.#queue;
    while (this.#busy < this.#workers && queue.length > 0 && this.#ready && !this.run.closing) {
      this.#busy++;
      this.#call(queue.shift()!);
    }
    this.#pumping = false;
    if (this.#upstreamPaused && !this.run.closing && (this.#maxsize === 0 || queue.length < this.#maxsize)) {
      this.#upstreamPaused = false;
      this.upstream.resume();
    }
    this.#checkFinished();
  }

  // ---- flatMap -----------------------------------------------------------------------

  #expand(item: Item, result: unknown): void {
    const expansion = new Expansion(this, item);
    if (!expansion.open(result)) return;
    (this.#expansions ??= new Set()).add(expansion);
    expansion.continue();
  }

  /** @internal Emits one child of an expansion (check {@link canEmit} before the next). */
  emitChild(child: Item): void {
    if (!this.out.push(child)) this.#downstreamFull = true;
  }

  /** @internal Whether children may be emitted now. */
  get canEmit(): boolean {
    return !this.#downstreamFull && !this.run.closing;
  }

  /** @internal An expansion produced all its children. */
  expansionDone(expansion: Expansion, parent: Item, count: number): void {
    this.#expansions?.delete(expansion);
    this.#busy--;
    if (this.#markers) {
      parent.mark = END;
      parent.value = count;
      if (!this.out.push(parent)) this.#downstreamFull = true;
    }
    if (!expansion.inline) this.#pump();
  }

  /** @internal An expansion's iteration failed. */
  expansionFailed(expansion: Expansion, error: unknown): void {
    const live = this.#expansions?.delete(expansion) ?? false;
    if (live || expansion.inline) this.#busy--;
    this.run.fail(error);
    if (!expansion.inline) this.#checkFinished();
  }

  /** @internal An expansion stopped by teardown has finished closing its iterator. */
  expansionStopped(): void {
    this.#busy--;
    this.#checkFinished();
  }

  // ---- slots and hooks ---------------------------------------------------------------

  #takeSlot(item: Item): CallSlot {
    let slot = this.#freeSlots;
    if (slot !== null) this.#freeSlots = slot.nextFree;
    else slot = new CallSlot(this);
    slot.item = item;
    if (this.#timeout !== undefined) (this.#timedSlots ??= new Set()).add(slot);
    return slot;
  }

  #releaseSlot(slot: CallSlot): void {
    slot.item = null;
    if (slot.ctx !== null) {
      CallContext.release(slot.ctx);
      slot.ctx = null;
    }
    if (this.#timeout !== undefined) {
      clearTimeout(slot.timer);
      slot.controller = null;
      this.#timedSlots!.delete(slot);
    }
    slot.nextFree = this.#freeSlots;
    this.#freeSlots = slot;
  }

  #onStarted(value: unknown): void {
    this.#hookPending = false;
    const problem = checkContext(value);
    if (problem !== undefined) {
      this.run.fail(new OptionsError(`${this.name}: onStart ${problem}`));
      this.#checkFinished();
      return;
    }
    this.#started = true;
    if (value != null) this.#context = value;
    if (this.run.closing) {
      this.#checkFinished();
      return;
    }
    this.#ready = true;
    this.#pump();
  }

  #checkFinished(): void {
    if (this.#finished || !this.#startCalled || this.#hookPending || this.#busy > 0) return;
    if (!this.run.closing && (!this.#inputEnded || this.#queue.length > 0 || !this.#ready)) return;
    // Mark finished before ending downstream: a downstream onDone that throws tears the run
    // down synchronously, and that teardown must not finish this stage a second time.
    this.#finished = true;
    if (!this.run.closing) this.out.end();
    const onDone = this.#node.settings.onDone;
    if (onDone === undefined || !this.#started) {
      this.run.partDone();
      return;
    }
    const info = Object.assign(new StageInfo(this.name, this.run), this.#context);
    let result: unknown;
    try {
      result = onDone(info);
    } catch (error) {
      this.run.fail(error);
      this.run.partDone();
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        () => this.run.partDone(),
        (error: unknown) => {
          this.run.fail(error);
          this.run.partDone();
        },
      );
    } else {
      this.run.partDone();
    }
  }
}

/** Why an `onStart` result cannot be merged into `ctx`, or `undefined` when it can. */
function checkContext(value: unknown): string | undefined {
  if (value == null) return undefined;
  if (typeof value !== "object") return `must return an object, null or undefined (received ${describeValue(value)})`;
  for (const key of RESERVED_CONTEXT_KEYS) {
    if (key in value) return `must not return the reserved key "${key}" (reserved: ${RESERVED_CONTEXT_KEYS.join(", ")})`;
  }
  return undefined;
}

/**
 * A reusable holder for one asynchronous call: its element and prebound callbacks, so a
 * call costs no closures. A timed-out slot is abandoned (never reused); its late settlement
 * is ignored.
 */
export class CallSlot implements CallOwner {
  item: Item | null = null;
  /** The running call's context, released when the call settles. */
  ctx: CallContext | null = null;
  /** The next free slot of the stage while this one is free. */
  nextFree: CallSlot | null = null;
  controller: AbortController | null = null;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  abandoned = false;
  timeoutError: unknown = undefined;
  readonly onOk: (value: unknown) => void;
  readonly onError: (error: unknown) => void;
  #onTimeout: (() => void) | null = null;

  constructor(readonly stage: WorkerStage) {
    this.onOk = (value) => {
      if (!this.abandoned) stage.callFulfilled(this, value);
    };
    this.onError = (error) => {
      if (!this.abandoned) stage.callRejected(this, error);
    };
  }

  /** The timer callback, made once per slot and only for timed stages. */
  get onTimeout(): () => void {
    return (this.#onTimeout ??= () => {
      if (!this.abandoned && this.item !== null) this.stage.callTimedOut(this);
    });
  }

  /** This timed call's controller: aborts on teardown or when the call times out. */
  controllerFor(): AbortController {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abandoned) this.controller.abort(this.timeoutError);
      else if (this.stage.run.closing) this.controller.abort(this.stage.run.reason);
    }
    return this.controller;
  }

  /** Nothing to do: the slot itself is tracked while its call runs. */
  releaseController(): void {}
}

/** The children of one flatMap result being emitted, paused when downstream is full. */
class Expansion {
  paused = false;
  /** Whether the expansion is running inside the stage's own call (not from a callback). */
  inline = true;
  #iterator: Iterator<unknown> | AsyncIterator<unknown> | null = null;
  #array: ArrayLike<unknown> | null = null;
  #async = false;
  #count = 0;
  #stopped = false;
  #pendingNext = false;
  readonly #parentLink: PathLink;
  // Made on first use: most expansions are arrays emitted inline and need no callback.
  #onNextFn: ((result: IteratorResult<unknown>) => void) | null = null;
  #onErrorFn: ((error: unknown) => void) | null = null;

  get #onNext(): (result: IteratorResult<unknown>) => void {
    return (this.#onNextFn ??= (result) => this.#received(result));
  }

  get #onError(): (error: unknown) => void {
    return (this.#onErrorFn ??= (error) => this.#fail(error));
  }

  #afterYield(): void {
    this.inline = false;
    this.paused = false;
    this.continue();
  }

  constructor(
    readonly stage: WorkerStage,
    readonly parent: Item,
  ) {
    this.#parentLink = new PathLink(parent.pos, parent.up);
  }

  /** Takes f's result; returns false (after reporting) when it cannot be iterated. */
  open(result: unknown): boolean {
    try {
      if (Array.isArray(result)) {
        this.#array = result;
      } else if (result != null && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        this.#iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
        this.#async = true;
      } else if (result != null && typeof (result as Iterable<unknown>)[Symbol.iterator] === "function") {
        this.#iterator = (result as Iterable<unknown>)[Symbol.iterator]();
      } else {
        throw new TypeError(
          `${this.stage.name}: f must return an Iterable or AsyncIterable, or a Promise of one (received ${describeValue(result)})`,
        );
      }
    } catch (error) {
      this.#fail(error);
      return false;
    }
    return true;
  }

  /** Emits children until downstream is full, the source of children ends, or it must wait. */
  continue(): void {
    const stage = this.stage;
    if (this.#async) {
      if (this.#pendingNext || this.#stopped) return;
      if (!stage.canEmit) {
        this.paused = true;
        return;
      }
      this.paused = false;
      this.#pendingNext = true;
      this.inline = false;
      let next: unknown;
      try {
        next = (this.#iterator as AsyncIterator<unknown>).next();
      } catch (error) {
        this.#pendingNext = false;
        this.#fail(error);
        return;
      }
      Promise.resolve(next as Promise<IteratorResult<unknown>>).then(this.#onNext, this.#onError);
      return;
    }
    let budget = ELEMENTS_PER_MACROTASK;
    while (!this.#stopped) {
      if (!stage.canEmit) {
        this.paused = true;
        return;
      }
      if (--budget === 0) {
        this.paused = true;
        scheduleMacrotask(() => this.#afterYield());
        return;
      }
      let value: unknown;
      if (this.#array !== null) {
        if (this.#count >= this.#array.length) return this.#done();
        value = this.#array[this.#count];
      } else {
        let result: IteratorResult<unknown>;
        try {
          result = (this.#iterator as Iterator<unknown>).next();
          if (result === null || typeof result !== "object") throw iteratorResultError(result);
        } catch (error) {
          this.#fail(error);
          return;
        }
        if (result.done) return this.#done();
        value = result.value;
      }
      stage.emitChild(new Item(value, this.#count++, this.#parentLink, this.parent.prefix, VALUE));
    }
  }

  /**
   * Teardown: close the iterator, holding the slot until its `return()` (a generator's
   * `finally`) settles, unless a `next()` that cannot be interrupted is pending.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const closing = closeIterator(this.#iterator);
    if (!this.#pendingNext && isPromiseLike(closing)) {
      const stage = this.stage;
      closing.then(() => stage.expansionStopped());
    } else {
      this.stage.expansionStopped();
    }
  }

  #received(result: IteratorResult<unknown>): void {
    this.#pendingNext = false;
    if (this.#stopped) return;
    if (result === null || typeof result !== "object") return this.#fail(iteratorResultError(result));
    if (result.done) return this.#done();
    this.stage.emitChild(new Item(result.value, this.#count++, this.#parentLink, this.parent.prefix, VALUE));
    this.continue();
  }

  #done(): void {
    this.#stopped = true;
    this.stage.expansionDone(this, this.parent, this.#count);
  }

  #fail(error: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    closeIterator(this.#iterator);
    this.stage.expansionFailed(this, error);
  }
}

/** Calls an iterator's `return()` if it has one, dropping any error it raises. */
export function closeIterator(iterator: Iterator<unknown> | AsyncIterator<unknown> | null): unknown {
  if (iterator === null || typeof iterator.return !== "function") return undefined;
  try {
    const result: unknown = iterator.return();
    if (isPromiseLike(result)) return result.then(undefined, () => undefined);
  } catch {
    // A failing return() during teardown is a later error: dropped (SPEC §7).
  }
  return undefined;
}

/** The error for an iterator whose `next()` returned a non-object, as `for...of` would throw. */
export function iteratorResultError(result: unknown): TypeError {
  return new TypeError(`Iterator result ${describeValue(result)} is not an object`);
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
const anchorStage = new WorkerStage(
  new AnchorRun(undefined),
  createStageNode("map", createSourceNode([]), () => undefined, {
    name: "anchor",
    workers: 1,
    maxsize: 1,
    timeout: undefined,
    onTimeout: "error",
    onStart: undefined,
    onDone: undefined,
  }),
  false,
);
anchorShape(anchorStage);
anchorShape(new CallSlot(anchorStage));
anchorShape(new Expansion(anchorStage, new Item(undefined, 0, null, null, VALUE)));
