import { BoundedQueue } from "../bounded-queue.js";
import { ElementError } from "../errors.js";
import type { CheckpointSettings } from "../nodes/stage-settings.js";
import { Run } from "./run.js";
import type { Claim } from "./settlement.js";
import { anchorShape } from "../shape-anchors.js";
import { isPromiseLike, whenSettled } from "./thenable.js";

/**
 * The checkpoint of one source in one run (docs/design.md §23): the claims of the elements
 * taken, in the order they were taken, and the watermark, the position of the last element
 * of the longest prefix that has settled. A claim with no references left has settled; a
 * failed one counts only while the run has not failed (an element that failed the run must
 * be done again after a restart). Saves are made from a microtask, never inside the
 * engine's frames, one at a time, each holding the run open; `finish` makes the last one.
 * Exists only for a source with a checkpoint, so no other run pays for it.
 */
export class Watermark {
  readonly #run: Run;
  readonly #settings: CheckpointSettings;
  /** Claims taken and not yet passed by the watermark, oldest first. */
  readonly #claims = new BoundedQueue<Claim>();
  /** Elements settled since the last save began (for `every`). */
  #settledSince = 0;
  /** The watermark's position; meaningful once `#moved` was first set. */
  #position: unknown = undefined;
  /** The watermark moved since the last save began. */
  #moved = false;
  /** A save (its promise included) is in progress. */
  #saving = false;
  /** Another save was asked for during one. */
  #again = false;
  #queued = false;
  /** The run has stopped: the last save was asked for, nothing is saved after it. */
  #ended = false;
  /** A save threw or rejected: the run failed, and nothing more is saved. */
  #broken = false;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  #flushFn: (() => void) | null = null;

  constructor(run: Run, settings: CheckpointSettings) {
    this.#run = run;
    this.#settings = settings;
  }

  /**
   * Records the `index`-th element taken, with its position. Returns false when `position`
   * threw: the element settles failed (and holds the watermark back), and the run fails.
   */
  track(claim: Claim, index: number): boolean {
    this.#claims.push(claim);
    if (this.#timer === undefined && this.#settings.interval !== undefined && !this.#ended) this.#arm(this.#settings.interval);
    try {
      claim.position = this.#settings.position(claim.element);
    } catch (error) {
      const failure = new ElementError(error, claim.element, "source(position)", [index], 1);
      claim.markFailed(failure);
      claim.release();
      this.#run.fail(failure);
      return false;
    }
    return true;
  }

  /** An element settled (done, or failed with the run going on). */
  settled(): void {
    const every = this.#settings.every;
    this.#settledSince++;
    if (every !== undefined && this.#settledSince >= every) this.#request();
  }

  /** The run has stopped (every element is settled or released): stop the timer and save the last watermark. */
  finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#saving) this.#again = true;
    else this.#saveIfMoved();
  }

  #arm(interval: number): void {
    const timer = (this.#timer = setInterval(() => {
      if (this.#settledSince > 0) this.#request();
    }, interval));
    // The timer alone must not keep a process alive (Node, Deno and Bun have unref; browsers return a number).
    (timer as unknown as { unref?: () => void }).unref?.();
  }

  /** A save is due: made in a microtask (after the settlement that asked, and what fails the run with it), or after the one in progress. */
  #request(): void {
    if (this.#saving) {
      this.#again = true;
      return;
    }
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(
      (this.#flushFn ??= () => {
        this.#queued = false;
        // Teardown's elements settle as the run stops: the last save covers them.
        if (!this.#saving && !this.#ended && !this.#run.closing) this.#saveIfMoved();
      }),
    );
  }

  #saveIfMoved(): void {
    if (this.#broken) return;
    this.#advance();
    if (this.#moved) this.#save();
  }

  /** Moves the watermark over every settled element at the front. */
  #advance(): void {
    const claims = this.#claims;
    const runFailed = this.#run.failed;
    for (let head = claims.peek(); head !== undefined; head = claims.peek()) {
      if (head.open > 0 || (head.failed && runFailed)) return;
      claims.shift();
      this.#position = head.position;
      this.#moved = true;
    }
  }

  #save(): void {
    const run = this.#run;
    this.#saving = true;
    this.#moved = false;
    this.#settledSince = 0;
    run.hold();
    let result: unknown;
    try {
      result = this.#settings.save({ position: this.#position });
    } catch (error) {
      this.#saved(error, true);
      return;
    }
    if (!isPromiseLike(result)) this.#saved(undefined, false);
    else
      whenSettled(
        result,
        () => this.#saved(undefined, false),
        (error) => this.#saved(error, true),
      );
  }

  /** A save has ended: fail the run if it failed, start the save asked for meanwhile, then let the run settle. */
  #saved(error: unknown, failed: boolean): void {
    const run = this.#run;
    this.#saving = false;
    if (failed) {
      this.#broken = true;
      run.fail(error);
    } else if (this.#again) {
      this.#again = false;
      if (this.#ended) this.#saveIfMoved();
      else this.#request();
    }
    run.partDone();
  }
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new Watermark(new Run(undefined), { position: () => undefined, save: () => undefined, every: undefined, interval: undefined }));
