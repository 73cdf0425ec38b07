import { ConcurrencyLimiter, now } from "../concurrency-limiter.js";
import type { ConcurrencyBounds } from "../nodes/stage-settings.js";
import { anchorShape } from "../shape-anchors.js";
import type { Run } from "./run.js";
import { CallContext } from "./stage-info.js";

/**
 * What an adaptive stage (`workers: "auto"`, bounds, or a shared limiter) adds to its calls
 * (docs/design.md §24): it times each call of `f` from its start to its settlement, and tells
 * the limit how the call went. Created only for adaptive stages; a stage with fixed
 * `workers` holds `null` and pays one comparison per call.
 */
export class AdaptiveCalls {
  /** The limit the stage's calls stay under: its own for this run, or a shared one. */
  readonly limiter: ConcurrencyLimiter;
  readonly #isPushback: (error: unknown) => boolean;
  readonly #run: Run;

  constructor(run: Run, adaptive: ConcurrencyBounds | ConcurrencyLimiter, isPushback: (error: unknown) => boolean) {
    this.#run = run;
    this.limiter = adaptive instanceof ConcurrencyLimiter ? adaptive : new ConcurrencyLimiter(adaptive.min, adaptive.max, adaptive.initial);
    this.#isPushback = isPushback;
  }

  /**
   * Attempt `attempt` of a call starts; returns when. A first attempt was counted when it
   * took its turn; a retry starts in the slot its element kept, so it is counted here.
   */
  started(attempt: number): number {
    if (attempt > 1) this.limiter.add();
    return now();
  }

  /** The call that started at `startedAt` succeeded; its `ctx` says whether it pushed back. */
  succeeded(startedAt: number, ctx: CallContext): void {
    if (this.#run.closing) {
      this.limiter.release();
      return;
    }
    const at = now();
    this.limiter.settled(at, at - startedAt, CallContext.pushedBack(ctx));
  }

  /**
   * The call that started at `startedAt` failed with `error` (or timed out): push-back if the
   * stage's `isPushback` says so, or if the call ran `ctx.pushback()` before failing. A throw
   * from `isPushback` fails the run, as a throw from any handler does.
   */
  failed(startedAt: number, error: unknown, ctx: CallContext | null): void {
    if (this.#run.closing) {
      this.limiter.release();
      return;
    }
    const at = now();
    let pushback: boolean;
    try {
      pushback = (ctx !== null && CallContext.pushedBack(ctx)) || Boolean(this.#isPushback(error));
    } catch (thrown) {
      this.limiter.release();
      this.#run.fail(thrown);
      return;
    }
    this.limiter.settled(at, at - startedAt, pushback);
  }
}

// Keep the hidden class of this per-run object alive (see shape-anchors.ts).
anchorShape(new AdaptiveCalls(null as unknown as Run, new ConcurrencyLimiter(1, 1, 1), () => false));
