import type { RunStats, RunState, SourceStats } from "../run-stats.js";
import type { Run } from "./run.js";
import { anchorShape } from "../shape-anchors.js";
import { snapshotOf, type StageCounters } from "./stage-counters.js";

/** The interval between two `onProgress` calls when `progressInterval` is not given. */
export const DEFAULT_PROGRESS_INTERVAL = 200;

/** What a source contributes to {@link RunStats.source}. */
export interface CountedSource {
  /** Elements read so far. */
  readonly pulled: number;
  /** The source's size when known, else `undefined`. */
  readonly total: number | undefined;
}

/** What the consumer contributes: values that reached it. */
export interface CountedSink {
  readonly delivered: number;
}

/**
 * Watches one run for its `onProgress` (docs/design.md §18): holds the run's stages (in chain
 * order), sources and sink, calls `onProgress` with a fresh snapshot on an interval timer
 * while the run goes, and once more when it settles. Exists only when `onProgress` was given,
 * so an unwatched run allocates nothing for stats.
 */
export class Progress {
  readonly #run: Run;
  /** The caller's signal: a teardown with its reason is an abort, not a failure. */
  readonly #signal: AbortSignal | undefined;
  readonly #onProgress: (stats: RunStats) => void;
  readonly #interval: number;
  readonly #stages: StageCounters[] = [];
  readonly #sources: CountedSource[] = [];
  #sink: CountedSink | null = null;
  #startedAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined = undefined;
  /** `onProgress` threw, or the run settled: it is not called again. */
  #silenced = false;
  #tickFn: (() => void) | null = null;

  constructor(run: Run, signal: AbortSignal | undefined, onProgress: (stats: RunStats) => void, interval: number) {
    this.#run = run;
    this.#signal = signal;
    this.#onProgress = onProgress;
    this.#interval = interval;
  }

  /** Adds a stage; the wiring adds each after the stages before it. */
  addStage(stage: StageCounters): void {
    this.#stages.push(stage);
  }

  addSource(source: CountedSource): void {
    this.#sources.push(source);
  }

  set sink(sink: CountedSink) {
    this.#sink = sink;
  }

  /** The run starts: begin the clock and the interval timer. */
  start(): void {
    this.#startedAt = performance.now();
    const timer = setInterval((this.#tickFn ??= () => this.#report(false)), this.#interval);
    // The timer alone must not keep a process alive (Node, Deno and Bun have unref; browsers return a number).
    (timer as unknown as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  /**
   * The run is settling: stop the timer and report the final figures. A throw from this
   * last call fails a run that was going to succeed; after an earlier failure it is dropped.
   */
  finish(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#report(true);
    this.#silenced = true;
  }

  /** A snapshot of the run now; `final` once every part has stopped. */
  snapshot(final: boolean): RunStats {
    const run = this.#run;
    // A teardown after a take() had what it needed is a normal end (docs/design.md §26).
    const state: RunState = run.closing && (run.failed || !run.stoppedEarly) ? (this.#aborted() ? "aborted" : "failed") : final ? "done" : "running";
    const stages = this.#stages.map(snapshotOf);
    return Object.freeze({
      elapsedMs: performance.now() - this.#startedAt,
      state,
      source: this.#sourceStats(),
      delivered: this.#sink?.delivered ?? 0,
      stages: Object.freeze(stages),
    });
  }

  /**
   * Whether the teardown was an abort: the consumer left (the only teardown that does not
   * fail the run), or the run failed with the caller's abort reason.
   */
  #aborted(): boolean {
    const run = this.#run;
    const signal = this.#signal;
    return !run.failed || (signal !== undefined && signal.aborted && run.error === signal.reason);
  }

  #sourceStats(): SourceStats {
    let pulled = 0;
    let total: number | undefined = 0;
    for (const source of this.#sources) {
      pulled += source.pulled;
      total = total === undefined || source.total === undefined ? undefined : total + source.total;
    }
    return Object.freeze(total === undefined ? { pulled } : { pulled, total });
  }

  #report(final: boolean): void {
    if (this.#silenced) return;
    try {
      this.#onProgress(this.snapshot(final));
    } catch (error) {
      this.#silenced = true;
      clearInterval(this.#timer);
      const run = this.#run;
      if (!final) run.fail(error);
      else if (!run.failed && !run.closing) {
        // The run had succeeded; the consumer will see this error instead.
        run.failed = true;
        run.error = error;
      }
    }
  }
}

/** How many elements `source` has, when it says so without being read: arrays, typed arrays, sets, maps. */
export function sizeOf(source: unknown): number | undefined {
  if (Array.isArray(source)) return source.length;
  if (typeof source !== "object" || source === null) return undefined;
  if (ArrayBuffer.isView(source) && typeof (source as { length?: unknown }).length === "number") {
    return (source as unknown as ArrayLike<unknown>).length;
  }
  if (source instanceof Set || source instanceof Map) return source.size;
  return undefined;
}

// Keep the hidden classes of these per-run objects alive (see shape-anchors.ts).
anchorShape(new Progress(null as unknown as Run, undefined, () => undefined, DEFAULT_PROGRESS_INTERVAL));
