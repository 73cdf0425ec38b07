import type { Operator } from "./operator.js";
import { resolveBatch, type BatchOptions } from "./batch-options.js";
import { checkCount, checkFunction } from "./operator-args.js";
import type { FlatMapResult, Pipeline } from "./pipeline.js";
import { resolveStage, type FallbackOptions, type HookContext, type StageFn, type StageGuard, type StageOptions } from "./stage-options.js";

// Operators validate eagerly, so a bad option throws where the operator is written.

/**
 * The operator form of {@link Pipeline.map}: calls `f` on every element, up to `workers` at once.
 *
 * @param f - `(x, ctx) => U | Promise<U>`
 * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`, `key`, `fallback`
 * @example
 * ```ts
 * const users = await pipe(ids, map(fetchUser, { workers: 16 }), filter((u) => u.active));
 * ```
 */
export function map<T, U, C extends HookContext = {}, R = never>(
  f: StageFn<T, U | PromiseLike<U>, C>,
  options?: StageOptions<C, NoInfer<T>> & FallbackOptions<T, R>,
): Operator<T, Awaited<U> | R> {
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

/**
 * The operator form of {@link Pipeline.tap}: calls `f` on every element and passes the element on unchanged.
 *
 * @param f - `(x, ctx) => unknown`; a promise is awaited before the element moves on
 * @param options - the stage options of `map`, `fallback` included
 * @example
 * ```ts
 * const users = await pipe(ids, map(fetchUser, { workers: 8 }), tap((user: User) => audit.log(user.id)));
 * ```
 */
export function tap<T, C extends HookContext = {}, R = never>(
  f: StageFn<T, unknown, C>,
  options?: StageOptions<C> & FallbackOptions<T, R>,
): Operator<T, T | R> {
  resolveStage("tap", f, options, 0);
  return (pipeline) => pipeline.tap(f, options);
}

/**
 * The operator form of {@link Pipeline.scan}: emits each running accumulator.
 *
 * @param f - `(accumulator, x) => A | Promise<A>`, called one element at a time
 * @param initial - the accumulator before the first element
 * @example
 * ```ts
 * const totals = await pipe([1, 2, 3], scan((sum: number, x: number) => sum + x, 0)); // [1, 3, 6]
 * ```
 */
export function scan<T, A>(f: (accumulator: A, value: T) => A | PromiseLike<A>, initial: A): Operator<T, A> {
  checkFunction("scan", "f", f);
  return (pipeline) => pipeline.scan(f, initial);
}

/**
 * The operator form of {@link Pipeline.take}: the first `n` elements, then the run stops upstream.
 *
 * @param n - how many elements: an integer >= 0
 * @example
 * ```ts
 * const firstTen = await pipe(() => naturals(), map(fetchItem, { workers: 4 }), take(10));
 * ```
 */
export function take<T>(n: number): Operator<T, T> {
  checkCount("take", n);
  return (pipeline) => pipeline.take(n);
}

/**
 * The operator form of {@link Pipeline.takeWhile}: elements until the first that fails `pred`
 * (called synchronously, with the element and a counter from 0); a type guard narrows.
 *
 * @param pred - `(x, counter) => boolean`, or a type guard
 * @example
 * ```ts
 * const header = await pipe(lines, takeWhile((line: string) => line !== ""));
 * ```
 */
export function takeWhile<T, S extends T>(pred: (value: T, counter: number) => value is S): Operator<T, S>;
export function takeWhile<T>(pred: (value: T, counter: number) => unknown): Operator<T, T>;
export function takeWhile<T>(pred: (value: T, counter: number) => unknown): Operator<T, T> {
  checkFunction("takeWhile", "pred", pred);
  return (pipeline) => pipeline.takeWhile(pred);
}

/**
 * The operator form of {@link Pipeline.drop}: leaves out the first `n` elements.
 *
 * @param n - how many elements: an integer >= 0
 * @example
 * ```ts
 * const rows = await pipe(csvLines, drop(1)); // without the header line
 * ```
 */
export function drop<T>(n: number): Operator<T, T> {
  checkCount("drop", n);
  return (pipeline) => pipeline.drop(n);
}
