import type { CallContext, CallOwner } from "./stage-info.js";
import type { Expansion } from "./expansion.js";
import type { Item } from "./item.js";
import type { WorkerStage } from "./worker-stage.js";

/**
 * A reusable holder for one asynchronous or timed call of `f`: its element and prebound
 * callbacks, so a call costs no closures (docs/design.md §6). A flatMap call keeps its slot
 * while its expansion runs, so the expansion's steps are timed and its `ctx.signal` stays
 * the call's. A slot abandoned by a timeout is never reused; its late settlement is ignored.
 */
export class CallSlot implements CallOwner {
  item: Item | null = null;
  /** The running call's context, released when the call (and its expansion) ends. */
  ctx: CallContext | null = null;
  /** The flatMap expansion this call's result is being read by. */
  expansion: Expansion | null = null;
  /** The next free slot of the stage while this one is free. */
  nextFree: CallSlot | null = null;
  controller: AbortController | null = null;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  abandoned = false;
  timeoutError: unknown = undefined;
  /** When the running call started, for an adaptive stage's latency (0 in other stages). */
  startedAt = 0;
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

  /** Adds `units` to the stage's rate limit. */
  charge(units: number): void {
    this.stage.charge(units);
  }
}
