import type { Node } from "./nodes/node.js";
import { CollectSink } from "./run/collect-sink.js";
import { IteratorSink } from "./run/iterator-sink.js";
import { watchDrain } from "./run/drain.js";
import { consumerCapacity, wire } from "./run/plan.js";
import type { ElementError } from "./errors.js";
import { DEFAULT_PROGRESS_INTERVAL, Progress, type CountedSink } from "./run/progress.js";
import { DEFAULT_MAX_ERRORS, Run } from "./run/run.js";
import type { RunStats } from "./run-stats.js";
import { RunTracing } from "./run/run-tracing.js";
import type { Telemetry } from "./telemetry.js";

/**
 * Options accepted by every way of consuming a pipeline.
 *
 * @example
 * ```ts
 * const options: RunOptions = { signal: AbortSignal.timeout(5_000) };
 * const users = await pipe(ids).map(fetchUser, { workers: 8 }).toArray(options);
 * ```
 */
export interface RunOptions {
  /** Aborting it tears the run down; the consumer then sees `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * How many element failures `onError: "collect"` stages may collect in this run (an integer
   * >= 0, default 10 000); one more fails the run with an `ElementErrors`, so memory stays bounded.
   */
  readonly maxErrors?: number | undefined;
  /**
   * Called with a fresh {@link RunStats} snapshot at most once per `progressInterval` while
   * the run goes, and once more, with the final figures, just before the run settles (before
   * `await` returns or the loop ends); never after. A run that never starts (its signal was
   * already aborted) never calls it. If it throws, the run fails with that error, and it is
   * not called again. Its timer does not keep a process alive.
   *
   * @example
   * ```ts
   * await pipe(ids).map(fetchUser, { workers: 8 }).run({
   *   onProgress: ({ elapsedMs, stages }) => console.log(elapsedMs, stages[0]!.done),
   *   progressInterval: 1_000,
   * });
   * ```
   */
  readonly onProgress?: ((stats: RunStats) => void) | undefined;
  /** Milliseconds between two `onProgress` calls while the run goes; default 200. */
  readonly progressInterval?: number | undefined;
  /**
   * Reports the run to a tracing and metrics system: a span for the run and for each call of
   * each stage's `f` (which runs inside it), a span per batch linked to its elements, and the
   * run's {@link RunStats} every `progressInterval` and at the end. `otelTelemetry()` from
   * `@sluice/otel` gives one on OpenTelemetry. Without it, a run creates and calls nothing
   * for telemetry.
   *
   * @example
   * ```ts
   * import { otelTelemetry } from "@sluice/otel";
   *
   * const telemetry = otelTelemetry();
   * await pipe(ids).map(fetchUser, { workers: 8 }).run({ telemetry });
   * ```
   */
  readonly telemetry?: Telemetry | undefined;
  /**
   * Aborting it drains the run, as a service does on SIGTERM: the sources are no longer
   * pulled (each source's iterator is closed by its `return()`), every element already taken
   * goes on through every stage, and the run ends normally with what was delivered (an
   * acknowledged source's elements settle `"done"`). Aborted before the run starts, nothing
   * is pulled.
   *
   * @example
   * ```ts
   * const drain = new AbortController();
   * process.once("SIGTERM", () => drain.abort());
   * await pipeline.run({ drain: drain.signal, drainTimeout: 25_000 });
   * ```
   */
  readonly drain?: AbortSignal | undefined;
  /**
   * How long a drain may take, in ms: then what is left is torn down as by `signal` (settled
   * `"released"`), and the run rejects with a `DrainTimeoutError`. Default: no limit.
   */
  readonly drainTimeout?: number | undefined;
}

/**
 * What `pipeline.toResult()` resolves with: the elements delivered, and the element failures
 * collected by `onError: "collect"` stages, in the order they happened.
 *
 * @example
 * ```ts
 * const { results, errors }: RunResult<User> = await pipe(ids).map(fetchUser, { onError: "collect" }).toResult();
 * ```
 */
export interface RunResult<T> {
  /** The elements delivered, in the order they arrived. */
  readonly results: T[];
  /** The collected failures. */
  readonly errors: ElementError[];
}

/**
 * Runs the graph ending at `root` to completion and resolves with every element (or with
 * `null` when `keep` is false, for `run()`). Rejects with the run's first error, as the
 * same object, after every in-flight call and `onDone` has settled.
 *
 * @example
 * ```ts
 * const values = await collect(node, {}, true);
 * ```
 */
export function collect(root: Node, options: RunOptions, keep: boolean): Promise<unknown[] | null> {
  return start(root, options, keep, (run, values, resolve, reject) => {
    if (run.failures === null) resolve(values);
    else reject(run.collectedErrors(values ?? []));
  });
}

/**
 * Runs the graph ending at `root` to completion and resolves with every element and every
 * failure collected by `onError: "collect"` stages; rejects only when the run fails.
 *
 * @example
 * ```ts
 * const { results, errors } = await collectResult(node, {});
 * ```
 */
export function collectResult(root: Node, options: RunOptions): Promise<RunResult<unknown>> {
  return start(root, options, true, (run, values, resolve) => {
    resolve({ results: values!, errors: run.failures ?? [] });
  });
}

/** Wires and starts a run into a {@link CollectSink}; `finish` settles the promise once the run settled without failing. */
function start<R>(
  root: Node,
  options: RunOptions,
  keep: boolean,
  finish: (run: Run, values: unknown[] | null, resolve: (result: R) => void, reject: (error: unknown) => void) => void,
): Promise<R> {
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const run = newRun(options);
    const sink = new CollectSink(run, keep);
    run.onSettle = () => {
      if (run.failed) reject(run.error);
      else finish(run, sink.values, resolve, reject);
    };
    launch(root, run, sink, options);
  });
}

/**
 * An async iterator over the graph ending at `root`. The run starts on the first `next()`;
 * `return()` (a `break`) tears it down and resolves once everything has settled.
 *
 * @param onFailed - called once with the run's error when the run fails while no `next()`
 * waits (the next `next()` still rejects with it): a `ReadableStream` errors at once with it
 * @example
 * ```ts
 * for await (const value of iterate(node, {})) console.log(value);
 * ```
 */
export function iterate(root: Node, options: RunOptions, onFailed?: (error: unknown) => void): AsyncIterableIterator<unknown> {
  const signal = options.signal;
  return new IteratorSink(consumerCapacity(root), onFailed ?? null, (sink) => {
    if (signal?.aborted) {
      sink.refuse(signal.reason);
      return null;
    }
    const run = newRun(options);
    sink.attach(run);
    launch(root, run, sink, options);
    return run;
  });
}

/** A run with the caller's signal and `maxErrors`. */
function newRun(options: RunOptions): Run {
  const run = new Run(options.signal);
  run.maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  return run;
}

/** Wires the graph ending at `root` into `sink` (watched, if the caller asked) and starts the run; its `onSettle` is set. */
function launch(root: Node, run: Run, sink: CollectSink | IteratorSink, options: RunOptions): void {
  const telemetry = options.telemetry;
  const tracing = telemetry === undefined ? null : new RunTracing(run, telemetry);
  const progress = watch(run, options, sink, tracing);
  wire(root, run, sink, progress, tracing);
  progress?.start();
  if (options.drain !== undefined) watchDrain(run, options.drain, options.drainTimeout);
  run.start();
}

/**
 * A {@link Progress} for `run` when the caller asked for `onProgress` or `telemetry` (which
 * reads the stats and ends the run's span after the final report), else `null`. It makes
 * its final report in the run's `onSettle`, before the consumer's (so set that first); the
 * wiring registers the stages with it, and its timer starts just before the run does. The
 * `Run` itself knows nothing of it: a field more on `Run` measurably slowed many small runs
 * (bench E), which allocate one per run (docs/design.md §18).
 */
function watch(run: Run, options: RunOptions, sink: CountedSink, tracing: RunTracing | null): Progress | null {
  const onProgress = options.onProgress;
  if (onProgress === undefined && tracing === null) return null;
  const report = tracing === null ? onProgress! : tracing.reporter(onProgress);
  const progress = new Progress(run, options.signal, report, options.progressInterval ?? DEFAULT_PROGRESS_INTERVAL);
  progress.sink = sink;
  const settle = run.onSettle;
  run.onSettle = () => {
    progress.finish();
    tracing?.finish(progress);
    settle();
  };
  return progress;
}
