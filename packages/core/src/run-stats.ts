import type { StageKind } from "./nodes/stage-node.js";

/**
 * Where a run stands: `"running"` while it goes, `"done"` when it ended with every element
 * delivered, `"failed"` when an error tore it down (from `f`, a hook, the source, a timeout
 * with `onTimeout: "error"`, or `onProgress` itself), `"aborted"` when the caller's signal
 * aborted or the consumer left early (`break`). Once a teardown has begun, a snapshot already
 * shows its outcome, while the in-flight calls and `onDone` hooks settle.
 *
 * @example
 * ```ts
 * const state: RunState = "running";
 * ```
 */
export type RunState = "running" | "done" | "failed" | "aborted";

/**
 * What a stage of a run has done so far: one entry of {@link RunStats.stages}.
 *
 * Every element a stage took up is in exactly one place, at every moment a snapshot is taken:
 * `taken = inFlight + done + skipped + failed + cancelled`. Elements still in the stage's input
 * queue are `waiting` and not yet `taken`.
 *
 * @example
 * ```ts
 * const fetch: StageStats = stats.stages[0]!;
 * console.log(`${fetch.name}: ${fetch.done} done, ${fetch.inFlight} in flight, ${fetch.waiting} waiting`);
 * ```
 */
export interface StageStats {
  /** The stage's name: its `name` option, or `map#1` style; `"batch"` for a `batch()` stage. */
  readonly name: string;
  /** What kind of stage it is. */
  readonly kind: StageKind | "batch";
  /** Elements the stage has taken up: calls of `f` started (for `batch()`, elements added to a batch). Retries of one element count once. */
  readonly taken: number;
  /** Elements in the stage's input queue now, waiting for a free worker (or a rate-limit turn). Always `0` for `batch()`. */
  readonly waiting: number;
  /** Taken elements not finished yet: calls running or waiting to retry, outputs waiting for a full downstream, `flatMap` results still being read, elements of a batch not yet emitted. */
  readonly inFlight: number;
  /**
   * Calls of `f` the stage allows in flight now: its `workers`, or for `workers: "auto"` (or
   * a `concurrencyLimiter()`) the limit it has found so far, which moves as the run goes. `1` for `batch()`.
   */
  readonly limit: number;
  /** Elements finished successfully and gone from the stage: emitted, filtered out, consumed by `each`, a `flatMap` result read to its end, or sent on in a batch. */
  readonly done: number;
  /** Values sent downstream: one per `map` result or passing `filter` element, every item of every `flatMap` result, every batch of `batch()`. */
  readonly emitted: number;
  /** Elements a `filter` let not pass (included in `done`). */
  readonly dropped: number;
  /** Elements dropped after a failure instead of failing the run: by `onTimeout: "skip"` today (and by a per-element error policy). A skipped `flatMap` call keeps the items it already emitted. */
  readonly skipped: number;
  /** Elements whose failure failed the run: `f` threw or rejected, or timed out with `onTimeout: "error"`. At most one per run unless failures raced. */
  readonly failed: number;
  /** Elements taken but not finished when the run was torn down: their calls were aborted, or their outputs discarded. */
  readonly cancelled: number;
  /** Extra attempts made after a failed call (not elements: one element may be retried several times). `0` until a stage retries. */
  readonly retried: number;
  /** Calls (or waits for a `flatMap` result's next item) that ran past `timeout`, whatever `onTimeout` then did. */
  readonly timedOut: number;
  /** Elements whose call failed (after retries) and whose `fallback` value was emitted in their place (included in `done` and `emitted`). `0` unless the stage has a `fallback`. */
  readonly recovered: number;
}

/**
 * What has been read from a run's source.
 *
 * @example
 * ```ts
 * const { pulled, total } = stats.source;
 * if (total !== undefined) console.log(`${pulled}/${total} read`);
 * ```
 */
export interface SourceStats {
  /** Elements read from the source (from all of them, behind a `concat`). */
  readonly pulled: number;
  /**
   * How many elements the source has, when that is known before reading it: an array, a
   * typed array, a `Set` or a `Map` (or a function or promise giving one). Absent for
   * iterators, generators and streams, and behind a `concat` unless every input is sized.
   */
  readonly total?: number;
}

/**
 * A snapshot of a run, handed to `onProgress` (see {@link RunOptions.onProgress}). It is a
 * fresh, frozen object each time: keep it, compare it with the next, send it somewhere.
 *
 * @example
 * ```ts
 * await pipe(urls)
 *   .map(fetchPage, { workers: 8, name: "fetch" })
 *   .each(store, { name: "store" })
 *   .run({
 *     onProgress: (stats) => {
 *       const store = stats.stages[1]!;
 *       console.log(`${stats.state} ${store.done}/${stats.source.total ?? "?"} after ${stats.elapsedMs} ms`);
 *     },
 *   });
 * ```
 */
export interface RunStats {
  /** Milliseconds since the run started. */
  readonly elapsedMs: number;
  /** Where the run stands. */
  readonly state: RunState;
  /** What has been read from the source. */
  readonly source: SourceStats;
  /** Elements handed to the consumer: collected by `toArray()`/`await`, discarded by `run()`, or returned by the iterator's `next()`. */
  readonly delivered: number;
  /** One entry per stage, in chain order (from the source to the consumer; behind a `concat`, each input's stages in argument order first). `ordered()` and `concat` are not stages here. */
  readonly stages: readonly StageStats[];
}
