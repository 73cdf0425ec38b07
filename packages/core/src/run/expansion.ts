import { CallSlot } from "./call-slot.js";
import { Item, PathLink, VALUE } from "./item.js";
import { IterableReader, type ReadableKind, type ReaderHost } from "./iterable-reader.js";
import { anchorShape } from "../shape-anchors.js";
import { CallContext } from "./stage-info.js";
import type { WorkerStage } from "./worker-stage.js";

/**
 * The children of one flatMap result being emitted: an {@link IterableReader} whose values
 * become items under the parent's index path. It holds the call's slot in the stage until it
 * ends, and the call's `ctx` (so `ctx.signal` still aborts on teardown), and, in a timed
 * stage, the call's slot, whose timer bounds each wait for the next item (docs/design.md §6).
 */
export class Expansion implements ReaderHost {
  /** Whether the expansion is being read inside the stage's own call, not from a callback. */
  inline = true;
  /** Whether downstream refused a child: the stage resumes it. */
  paused = false;
  readonly #stage: WorkerStage;
  readonly #parent: Item;
  readonly #parentLink: PathLink;
  readonly #reader: IterableReader;
  /** The call's context, released when the expansion ends. */
  #ctx: CallContext | null;
  /** The call's slot in a timed stage; `null` otherwise. */
  readonly slot: CallSlot | null;
  /** The call's attempt at the element, and when its first attempt started (for retries). */
  readonly attempt: number;
  readonly firstStart: number;
  #ended = false;
  #onClosedFn: (() => void) | null = null;

  constructor(stage: WorkerStage, parent: Item, ctx: CallContext | null, slot: CallSlot | null) {
    this.#stage = stage;
    this.#parent = parent;
    this.#parentLink = new PathLink(parent.pos, parent.up);
    this.#ctx = ctx;
    this.slot = slot;
    this.attempt = ctx === null ? 1 : ctx.attempt;
    this.firstStart = ctx === null ? 0 : CallContext.firstStart(ctx);
    this.#reader = new IterableReader(this);
  }

  /** Starts reading `result`, of the given kind. */
  open(result: unknown, kind: ReadableKind): void {
    this.#reader.open(result, kind, `${this.#stage.name}: f's result`);
    this.inline = false;
  }

  /** Downstream has room again. */
  resume(): void {
    this.paused = false;
    this.#reader.resume();
  }

  /** Teardown: close the iterator; the stage's slot is freed once its `return()` settled. */
  stop(): void {
    this.#end();
    this.#reader.close((this.#onClosedFn ??= () => this.#stage.expansionStopped(this)));
  }

  /** The wait for the next item ran past the stage's `timeout`: stop reading, without waiting. */
  timedOut(): void {
    this.#end();
    this.#reader.close(noop);
  }

  /** The element whose children these are. */
  get parent(): Item {
    return this.#parent;
  }

  /** The children emitted so far (an end marker's count). */
  get count(): number {
    return this.#reader.count;
  }

  // ---- ReaderHost --------------------------------------------------------------------

  readValue(value: unknown, position: number): boolean {
    const slot = this.slot;
    if (slot !== null) clearTimeout(slot.timer);
    // A child holds its own reference to the parent's source element (docs/design.md §17).
    const claim = this.#parent.claim;
    if (claim !== null) claim.retain();
    const more = this.#stage.emitChild(new Item(value, position, this.#parentLink, this.#parent.prefix, VALUE, claim));
    if (!more) this.paused = true;
    return more;
  }

  readWaiting(): void {
    const slot = this.slot;
    if (slot !== null) slot.timer = setTimeout(slot.onTimeout, this.#stage.timeout!);
  }

  readDone(): void {
    if (this.#end()) this.#stage.expansionDone(this, this.#parent, this.#reader.count);
  }

  readFailed(error: unknown): void {
    if (!this.#end()) return;
    this.#reader.close(noop);
    this.#stage.expansionFailed(this, error);
  }

  /** Releases the call's context and timer once; returns whether this call ended it. */
  #end(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    const slot = this.slot;
    if (slot !== null) clearTimeout(slot.timer);
    if (this.#ctx !== null) {
      CallContext.release(this.#ctx);
      this.#ctx = null;
    }
    return true;
  }
}

function noop(): void {}

/** Builds an anchor instance (see shape-anchors.ts); called by worker-stage.ts, which owns the stage class. */
export function anchorExpansion(stage: WorkerStage): void {
  anchorShape(new Expansion(stage, new Item(undefined, 0, null, null, VALUE, null), null, new CallSlot(stage)));
}
