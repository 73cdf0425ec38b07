import type { Operator } from "./operator.js";
import { resolveBatch, type BatchOptions } from "./batch-options.js";
import type { FlatMapResult, Pipeline } from "./pipeline.js";
import { resolveStage, type HookContext, type StageFn, type StageGuard, type StageOptions } from "./stage-options.js";

// Operators validate eagerly, so a bad option throws where the operator is written.

/**
 * The operator form of {@link Pipeline.map}: calls `f` on every element, up to `workers` at once.
 *
 * @param f - `(x, ctx) => U | Promise<U>`
 * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
 * @example
 * ```ts
 * const users = await pipe(ids, map(fetchUser, { workers: 16 }), filter((u) => u.active));
 * ```
 */
export function map<T, U, C extends HookContext = {}>(
  f: StageFn<T, U | PromiseLike<U>, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, Awaited<U>> {
  resolveStage("map", f, options, 0);
  return (pipeline) => pipeline.map(f, options);
}

/**
 * The operator form of {@link Pipeline.filter}: keeps elements for which `f` is truthy; a
 * type guard narrows the element type.
 *
 * @param f - `(x, ctx) => boolean | Promise<boolean>`, or a type guard
 * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
 * @example
 * ```ts
 * const numbers = await pipe([1, "a", 2], filter((x): x is number => typeof x === "number"));
 * ```
 */
export function filter<T, S extends T, C extends HookContext = {}>(
  f: StageGuard<T, S, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, S>;
export function filter<T, C extends HookContext = {}>(
  f: StageFn<T, unknown, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, T>;
export function filter<T, C extends HookContext = {}>(
  f: StageFn<T, unknown, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, T> {
  resolveStage("filter", f, options, 0);
  return (pipeline) => pipeline.filter(f, options);
}

/**
 * The operator form of {@link Pipeline.flatMap}: emits every item of the iterable `f` returns, streamed.
 *
 * @param f - `(x, ctx) => Iterable<U> | AsyncIterable<U> | Promise<Iterable<U>>`
 * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
 * @example
 * ```ts
 * const words = await pipe(["a b", "c"], flatMap((line: string) => line.split(" ")));
 * ```
 */
export function flatMap<T, U, C extends HookContext = {}>(
  f: StageFn<T, FlatMapResult<U>, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, U> {
  resolveStage("flatMap", f, options, 0);
  return (pipeline) => pipeline.flatMap(f, options);
}

/**
 * The operator form of {@link Pipeline.each}: calls `f` for its side effects and emits nothing.
 *
 * @param f - `(x, ctx) => unknown`
 * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
 * @example
 * ```ts
 * await pipe(rows, each((row: Row) => db.insert(row), { workers: 8 })).run();
 * ```
 */
export function each<T, C extends HookContext = {}>(
  f: StageFn<T, unknown, C>,
  options?: StageOptions<C, NoInfer<T>>,
): Operator<T, never> {
  resolveStage("each", f, options, 0);
  return (pipeline) => pipeline.each(f, options);
}

/**
 * The operator form of {@link Pipeline.ordered}: restores source order, streaming.
 *
 * @example
 * ```ts
 * const inOrder = await pipe([3, 1, 2], map(sleepThenReturn, { workers: 3 }), ordered());
 * ```
 */
export function ordered<T>(): Operator<T, T> {
  return (pipeline: Pipeline<T>) => pipeline.ordered();
}

/**
 * The operator form of {@link Pipeline.batch}: arrays of up to `size` elements, emitted when
 * full or `maxWait` ms after their first element.
 *
 * @param size - elements per batch at most: an integer >= 1
 * @param options - `maxWait`: milliseconds a partial batch may wait for more
 * @example
 * ```ts
 * await pipe(rows, batch(500, { maxWait: 100 }), each((chunk: Row[]) => db.insertMany(chunk))).run();
 * ```
 */
export function batch<T>(size: number, options?: BatchOptions): Operator<T, T[]> {
  resolveBatch(size, options);
  return (pipeline) => pipeline.batch(size, options);
}

/**
 * The operator form of {@link Pipeline.flat}: each item of each array element, streaming.
 *
 * @example
 * ```ts
 * const ids = await pipe(pages, map(fetchPageOfIds), flat<string>());
 * ```
 */
export function flat<T>(): Operator<T[], T> {
  return (pipeline) => pipeline.flat() as Pipeline<T>;
}
