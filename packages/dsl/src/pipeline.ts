import {
  collect,
  collectResult,
  createBatchNode,
  createOrderedNode,
  createSliceNode,
  createStageNode,
  describeValue,
  isPromiseLike,
  iterate,
  type RunOptions,
  type SliceNode,
  type RunResult,
  type StageFunction,
  type StageKind,
} from "@sluice/core";
import { NO_RUN_OPTIONS, checkRunOptions } from "./run-options.js";
import { resolveBatch, type BatchOptions } from "./batch-options.js";
import { Graph, registerGraphReader } from "./graph.js";
import { checkCount, checkFunction } from "./operator-args.js";
import { scanStart, scanStep } from "./scan.js";
import {
  resolveStage,
  resolveStageOptions,
  type FallbackOptions,
  type HookContext,
  type StageFn,
  type StageGuard,
  type StageMethod,
  type StageOptions,
} from "./stage-options.js";
import { passThrough } from "./tap.js";
import { validatorOf, type SchemaOutput, type StandardSchema } from "./standard-schema.js";
import type { Operator } from "./operator.js";

/**
 * What a `flatMap` function may return for elements of type `U`.
 *
 * @example
 * ```ts
 * const split = (line: string): FlatMapResult<string> => line.split(" ");
 * const words = await pipe(["a b", "c"]).flatMap(split); // ["a", "b", "c"] in some order
 * ```
 */
export type FlatMapResult<U> = Iterable<U> | AsyncIterable<U> | PromiseLike<Iterable<U> | AsyncIterable<U>>;

/**
 * The element type of `flat()`'s output: the items of an array (or other iterable) element type.
 *
 * @example
 * ```ts
 * type N = FlatElement<number[]>; // number
 * ```
 */
export type FlatElement<T> = T extends readonly (infer U)[] ? U : T extends Iterable<infer U> ? (T extends string ? never : U) : never;

const identity = (value: unknown): unknown => value;

/** The negation of a test's answer, awaited when it is a promise (for `every`). */
const not = (answer: unknown): unknown => (isPromiseLike(answer) ? Promise.resolve(answer).then((settled) => !settled) : !answer);

/**
 * An immutable, lazy description of a concurrent pipeline whose elements have type `T`.
 * Every method returns a new pipeline; nothing runs until the pipeline is consumed
 * (`await`, `for await`, `toArray`, `run`, `iterate`), and each consumption is an
 * independent run of the whole graph. A source that can be read only once (a generator
 * object, any iterator, a stream) fails every run after the first with a `TypeError`: give
 * `pipe` a function that makes it, called at the start of each run.
 *
 * @example
 * ```ts
 * const stage = pipe(() => range(10)) // a factory: each run gets a fresh generator
 *   .map(slowAdd1, { workers: 3, maxsize: 4 })
 *   .filter(slowGt3, { workers: 2 });
 *
 * const data = await stage; // e.g. [5, 6, 9, 4, 8, 10, 7]
 * for await (const x of stage) console.log(x); // a second run, over a second generator
 * ```
 */
export class Pipeline<T> implements AsyncIterable<T>, PromiseLike<T[]> {
  readonly #graph: Graph;

  /** @internal Use {@link pipe} to create pipelines. */
  constructor(graph: Graph) {
    this.#graph = graph;
  }

  static {
    registerGraphReader((value) => (#graph in value ? value.#graph : undefined));
  }

  /**
   * Calls `f` on every element, up to `workers` calls at once, and emits each result in
   * completion order.
   *
   * @param f - `(x, ctx) => U | Promise<U>`; `ctx` has `signal`, `index`, `stage` and what `onStart` returned
   * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`, `key`,
   *   and `fallback`: a value emitted in place of an element whose call failed (see {@link FallbackOptions})
   * @example
   * ```ts
   * const users = await pipe(ids).map((id, { signal }) => fetchUser(id, { signal }), { workers: 16 });
   * const sizes = await pipe(urls).map(fetchSize, { retry: 2, fallback: () => 0 }); // 0 for a URL that kept failing
   * ```
   */
  map<U, C extends HookContext = {}, R = never>(
    f: StageFn<T, U | PromiseLike<U>, C>,
    options?: StageOptions<C, T> & FallbackOptions<T, R>,
  ): Pipeline<Awaited<U> | R> {
    return this.#stage("map", f, options);
  }

  /**
   * Emits the elements for which `f` returns a truthy value (or a promise of one). A type
   * guard `(x) => x is S` narrows the element type to `S`.
   *
   * @param f - `(x, ctx) => boolean | Promise<boolean>`, or a type guard
   * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
   * @example
   * ```ts
   * const active = await pipe(users).filter((u) => u.active);
   * const numbers = await pipe([1, "a", 2]).filter((x): x is number => typeof x === "number"); // number[]
   * ```
   */
  filter<S extends T, C extends HookContext = {}>(
    f: StageGuard<T, S, C>,
    options?: StageOptions<C, T>,
  ): Pipeline<S>;
  filter<C extends HookContext = {}>(f: StageFn<T, unknown, C>, options?: StageOptions<C, T>): Pipeline<T>;
  filter<C extends HookContext = {}>(f: StageFn<T, unknown, C>, options?: StageOptions<C, T>): Pipeline<T> {
    return this.#stage("filter", f, options);
  }

  /**
   * Calls `f` on every element and emits each item of the iterable it returns (an array,
   * any `Iterable`, an `AsyncIterable`, or a promise of one). Items stream downstream as
   * they are produced: an async generator's items flow before it finishes.
   *
   * @param f - `(x, ctx) => Iterable<U> | AsyncIterable<U> | Promise<Iterable<U>>`
   * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
   * @example
   * ```ts
   * const lines = pipe(files).flatMap(async function* (file) {
   *   for await (const line of readLines(file)) yield line;
   * }, { workers: 4 });
   * ```
   */
  flatMap<U, C extends HookContext = {}>(f: StageFn<T, FlatMapResult<U>, C>, options?: StageOptions<C, T>): Pipeline<U> {
    return this.#stage("flatMap", f, options);
  }

  /**
   * Calls `f` on every element for its side effects and emits nothing. Consume it with
   * `run()` (or `await`, which gives `[]`).
   *
   * @param f - `(x, ctx) => unknown`; its result is ignored (a promise is awaited)
   * @param options - `workers`, `maxsize`, `timeout`, `onTimeout`, `name`, `onStart`, `onDone`, `retry`, `onError`, `rateLimit`, `cost`, `isPushback`
   * @example
   * ```ts
   * await pipe(rows).each((row) => db.insert(row), { workers: 8 }).run();
   * ```
   */
  each<C extends HookContext = {}>(f: StageFn<T, unknown, C>, options?: StageOptions<C, T>): Pipeline<never> {
    return this.#stage("each", f, options);
  }

  /**
   * Validates every element with a [Standard Schema](https://standardschema.dev) validator
   * (zod 4, valibot, arktype...) and emits its output, typed by the schema. An invalid
   * element is a {@link ValidationError} (never retried) that `onError` handles: by default
   * it fails the run; `"skip"` or `"collect"` keep the run going.
   *
   * @param schema - any Standard Schema v1 validator, sync or async
   * @param options - the stage options (`onError`, `workers` for async schemas, `name`...)
   * @example
   * ```ts
   * const User = z.object({ id: z.number(), email: z.email() });
   * const users = await pipe(jsonLines).map((line) => JSON.parse(line)).parse(User, { onError: "skip" }); // User[]
   * ```
   */
  parse<S extends StandardSchema, C extends HookContext = {}>(schema: S, options?: StageOptions<C, T>): Pipeline<SchemaOutput<S>> {
    return this.#stage("map", validatorOf(schema), options, "parse");
  }

  /**
   * Restores source order (by index path: concat inputs in argument order, each flatMap
   * expansion in the order produced, filtered-out elements skipped). It streams: each
   * element is emitted as soon as everything before it has been emitted or dropped.
   *
   * @example
   * ```ts
   * const inOrder = await pipe([3, 1, 2]).map(sleepThenReturn, { workers: 3 }).ordered(); // [3, 1, 2]
   * ```
   */
  ordered(): Pipeline<T> {
    return new Pipeline(new Graph(createOrderedNode(this.#graph.node), this.#graph.depth));
  }

  /**
   * Groups elements into arrays of up to `size`, in arrival order: a batch is emitted when
   * full, or `maxWait` ms after its first element arrived; never empty; the last, partial
   * batch at the end. It holds at most `size` elements plus one batch that downstream has
   * not taken yet. Batch `k` has index path `[k]`; put `ordered()` before it for batches in
   * source order.
   *
   * @param size - elements per batch at most: an integer >= 1
   * @param options - `maxWait`: milliseconds a partial batch may wait for more
   * @example
   * ```ts
   * await pipe(rows).batch(500, { maxWait: 100 }).each((chunk) => db.insertMany(chunk), { workers: 2 }).run();
   * ```
   */
  batch(size: number, options?: BatchOptions): Pipeline<T[]> {
    const { size: checked, maxWait } = resolveBatch(size, options);
    return new Pipeline(new Graph(createBatchNode(this.#graph.node, checked, maxWait), this.#graph.depth));
  }

  /**
   * Un-batches: emits each item of each array element, streaming (the inverse of {@link batch}).
   * Item `i` of element `[k]` has index path `[k, i]`.
   *
   * @example
   * ```ts
   * const ids = await pipe(pages).map(fetchPageOfIds, { workers: 4 }).flat(); // string[][] -> string[]
   * ```
   */
  flat(): Pipeline<FlatElement<T>> {
    const depth = this.#graph.depth + 1;
    const settings = resolveStage("flatMap", identity, { name: `flat#${depth}` }, depth);
    return new Pipeline(new Graph(createStageNode("flatMap", this.#graph.node, identity as StageFunction, settings), depth));
  }

  /**
   * Calls `f` on every element for its side effects, as {@link each} does, and emits the
   * element itself, unchanged, once `f` (and its promise) has finished. Every stage option
   * applies; with a `fallback`, an element whose call failed is replaced by the fallback's value.
   *
   * @param f - `(x, ctx) => unknown`; its result is ignored (a promise is awaited)
   * @param options - the stage options of {@link map}, `fallback` included
   * @example
   * ```ts
   * const users = await pipe(ids)
   *   .map(fetchUser, { workers: 8 })
   *   .tap((user) => audit.log(user.id), { workers: 2 }); // User[], each logged first
   * ```
   */
  tap<C extends HookContext = {}, R = never>(f: StageFn<T, unknown, C>, options?: StageOptions<C> & FallbackOptions<T, R>): Pipeline<T | R> {
    const depth = this.#graph.depth + 1;
    const settings = resolveStage("tap", f, options, depth);
    const step = passThrough(f as (value: unknown, ctx: unknown) => unknown);
    return new Pipeline(new Graph(createStageNode("map", this.#graph.node, step as StageFunction, settings), depth));
  }

  /**
   * Running accumulation: emits `f(accumulator, element)` for each element, in arrival order,
   * and keeps it as the accumulator for the next; the first call gets `initial`. One call at
   * a time (`f` may be async); each run starts again from `initial`.
   *
   * @param f - `(accumulator, x) => A | Promise<A>`
   * @param initial - the accumulator before the first element
   * @example
   * ```ts
   * const totals = await pipe([1, 2, 3]).scan((sum, x) => sum + x, 0); // [1, 3, 6]
   * ```
   */
  scan<A>(f: (accumulator: A, value: T) => A | PromiseLike<A>, initial: A): Pipeline<A> {
    checkFunction("scan", "f", f);
    const depth = this.#graph.depth + 1;
    const settings = resolveStageOptions("scan", { name: `scan#${depth}`, onStart: scanStart(initial) });
    const step = scanStep(f as (accumulator: unknown, value: unknown) => unknown);
    return new Pipeline(new Graph(createStageNode("map", this.#graph.node, step as StageFunction, settings), depth));
  }

  /**
   * Emits the first `n` elements to arrive, then stops: nothing more is pulled, and once the
   * stages after it have finished, what is upstream is torn down (in-flight calls see
   * `ctx.signal` abort, `onDone` hooks run once, elements of an acknowledged source not yet
   * delivered are `released`). The run ends normally, with what was emitted.
   *
   * @param n - how many elements: an integer >= 0
   * @example
   * ```ts
   * const firstTen = await pipe(() => naturals()).map(fetchItem, { workers: 4 }).take(10); // 10 items, then the run stops
   * ```
   */
  take(n: number): Pipeline<T> {
    return this.#slice(createSliceNode(this.#graph.node, "take", checkCount("take", n), undefined));
  }

  /**
   * Emits elements while `pred(element, counter)` is truthy, in arrival order; the first
   * element that fails the test is not emitted, and the run stops there as it does for
   * {@link take}. `pred` is called synchronously, once per element (`counter` counts from 0);
   * it must not return a promise (filter with an async test first). A type guard narrows.
   *
   * @param pred - `(x, counter) => boolean`, or a type guard
   * @example
   * ```ts
   * const header = await pipe(lines).takeWhile((line) => line !== ""); // up to the first blank line
   * ```
   */
  takeWhile<S extends T>(pred: (value: T, counter: number) => value is S): Pipeline<S>;
  takeWhile(pred: (value: T, counter: number) => unknown): Pipeline<T>;
  takeWhile(pred: (value: T, counter: number) => unknown): Pipeline<T> {
    checkFunction("takeWhile", "pred", pred);
    return this.#slice(createSliceNode(this.#graph.node, "takeWhile", 0, pred as (value: never, counter: number) => unknown));
  }

  /**
   * Leaves out the first `n` elements to arrive and emits the rest.
   *
   * @param n - how many elements: an integer >= 0
   * @example
   * ```ts
   * const rows = await pipe(csvLines).drop(1); // without the header line
   * ```
   */
  drop(n: number): Pipeline<T> {
    return this.#slice(createSliceNode(this.#graph.node, "drop", checkCount("drop", n), undefined));
  }

  /**
   * Applies operators (from {@link map}, {@link filter}, {@link flatMap}, {@link each},
   * {@link ordered}, or your own) in order.
   *
   * @example
   * ```ts
   * const clean = [filter((x: number) => x > 0), ordered<number>()] as const;
   * const result = await pipe([3, -1, 2]).map((x) => x * 2).through(...clean);
   * ```
   */
  through(): Pipeline<T>;
  through<A>(op1: Operator<T, A>): Pipeline<A>;
  through<A, B>(op1: Operator<T, A>, op2: Operator<A, B>): Pipeline<B>;
  through<A, B, C>(op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>): Pipeline<C>;
  through<A, B, C, D>(op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>): Pipeline<D>;
  through<A, B, C, D, E>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
  ): Pipeline<E>;
  through<A, B, C, D, E, F>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
  ): Pipeline<F>;
  through<A, B, C, D, E, F, G>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
  ): Pipeline<G>;
  through<A, B, C, D, E, F, G, H>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
    op8: Operator<G, H>,
  ): Pipeline<H>;
  through<A, B, C, D, E, F, G, H, I>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
    op8: Operator<G, H>,
    op9: Operator<H, I>,
  ): Pipeline<I>;
  through<A, B, C, D, E, F, G, H, I, J>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
    op8: Operator<G, H>,
    op9: Operator<H, I>,
    op10: Operator<I, J>,
  ): Pipeline<J>;
  through<A, B, C, D, E, F, G, H, I, J, K>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
    op8: Operator<G, H>,
    op9: Operator<H, I>,
    op10: Operator<I, J>,
    op11: Operator<J, K>,
  ): Pipeline<K>;
  through<A, B, C, D, E, F, G, H, I, J, K, L>(
    op1: Operator<T, A>,
    op2: Operator<A, B>,
    op3: Operator<B, C>,
    op4: Operator<C, D>,
    op5: Operator<D, E>,
    op6: Operator<E, F>,
    op7: Operator<F, G>,
    op8: Operator<G, H>,
    op9: Operator<H, I>,
    op10: Operator<I, J>,
    op11: Operator<J, K>,
    op12: Operator<K, L>,
  ): Pipeline<L>;
  // Past twelve operators the first twelve are still checked; the rest are not.
  through<A, B, C, D, E, F, G, H, I, J, K, L>(op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>, op10: Operator<I, J>, op11: Operator<J, K>, op12: Operator<K, L>, ...rest: Operator<any, any>[]): Pipeline<unknown>;
  // Any number of operators that keep the element type, e.g. an array built at run time.
  through(...ops: readonly Operator<T, T>[]): Pipeline<T>;
  through(...ops: Operator<any, any>[]): Pipeline<unknown> {
    return applyOperators(this, ops, "through");
  }

  /**
   * Runs the pipeline and resolves with all its elements (in completion order unless
   * `ordered()` was used). Rejects with the run's first error, as the same object.
   *
   * @param options - `signal`: aborting it tears the run down and rejects with its reason
   * @example
   * ```ts
   * const values = await pipe(ids).map(fetchUser, { workers: 8 }).toArray({ signal: AbortSignal.timeout(5_000) });
   * ```
   */
  toArray(options: RunOptions = NO_RUN_OPTIONS): Promise<T[]> {
    try {
      return collect(this.#graph.node, checkRunOptions("toArray", options), true) as Promise<T[]>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs the pipeline to completion and resolves with the elements and with the element
   * failures that `onError: "collect"` stages collected; it rejects only when the run fails.
   *
   * @param options - `signal`, and `maxErrors`: how many failures may be collected (default 10 000)
   * @example
   * ```ts
   * const { results, errors } = await pipe(urls).map(fetchPage, { retry: 2, onError: "collect" }).toResult();
   * for (const failure of errors) console.warn(failure.index, failure.error);
   * ```
   */
  toResult(options: RunOptions = NO_RUN_OPTIONS): Promise<RunResult<T>> {
    try {
      return collectResult(this.#graph.node, checkRunOptions("toResult", options)) as Promise<RunResult<T>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs the pipeline and folds its elements, in arrival order, with `f(accumulator, element)`
   * (which may be async), the first element being the initial accumulator; resolves with the
   * last accumulator. An empty pipeline rejects with a `TypeError`, as `Array.prototype.reduce` throws.
   *
   * @param f - `(accumulator, x) => T | Promise<T>`
   * @example
   * ```ts
   * const longest = await pipe(words).reduce((a, b) => (b.length > a.length ? b : a));
   * ```
   */
  reduce(f: (accumulator: T, value: T) => T | PromiseLike<T>): Promise<T>;
  /**
   * Runs the pipeline and folds its elements, in arrival order, with `f(accumulator, element)`
   * (which may be async), starting from `initial`; resolves with the last accumulator
   * (`initial` for an empty pipeline).
   *
   * @param f - `(accumulator, x) => A | Promise<A>`
   * @param initial - the accumulator before the first element
   * @param options - run options: `signal`, `onProgress`...
   * @example
   * ```ts
   * const total = await pipe(orders).map(fetchAmount, { workers: 8 }).reduce((sum, amount) => sum + amount, 0);
   * ```
   */
  reduce<A>(f: (accumulator: A, value: T) => A | PromiseLike<A>, initial: A, options?: RunOptions): Promise<A>;
  reduce(f: (accumulator: never, value: T) => unknown, ...rest: [initial?: unknown, options?: RunOptions]): Promise<unknown> {
    try {
      checkFunction("reduce", "f", f);
      // As TC39's reduce: "no initial value" is the argument's absence, not `undefined`.
      const seeded = rest.length > 0;
      const fold = { accumulator: rest[0], empty: !seeded };
      const step = (value: T): unknown => {
        if (fold.empty) {
          fold.empty = false;
          fold.accumulator = value;
          return undefined;
        }
        const next = f(fold.accumulator as never, value);
        if (!isPromiseLike(next)) {
          fold.accumulator = next;
          return undefined;
        }
        return Promise.resolve(next).then((settled) => {
          fold.accumulator = settled;
        });
      };
      const options = rest[1] ?? NO_RUN_OPTIONS;
      return this.each(step, { name: `reduce#${this.#graph.depth + 1}` })
        .run(options)
        .then(() => {
          if (fold.empty) throw new TypeError("reduce(): no elements and no initial value");
          return fold.accumulator;
        });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Resolves with the first element to arrive for which `pred` is truthy (`undefined` if
   * none), and stops the run as soon as it is found, as {@link take} does. `pred` may be
   * async; it runs as a `filter` stage with one worker. A type guard narrows.
   *
   * @param pred - `(x) => boolean | Promise<boolean>`, or a type guard
   * @param options - run options: `signal`, `onProgress`...
   * @example
   * ```ts
   * const admin = await pipe(userIds).map(fetchUser, { workers: 8 }).find((user) => user.isAdmin);
   * ```
   */
  find<S extends T>(pred: (value: T) => value is S, options?: RunOptions): Promise<S | undefined>;
  find(pred: (value: T) => unknown, options?: RunOptions): Promise<T | undefined>;
  find(pred: (value: T) => unknown, options?: RunOptions): Promise<T | undefined> {
    return this.#first("find", pred, false, options).then((found) => found[0]);
  }

  /**
   * Resolves `true` as soon as an element satisfies `pred` (stopping the run, as {@link take}
   * does), or `false` once the pipeline ended without one. `pred` may be async.
   *
   * @param pred - `(x) => boolean | Promise<boolean>`
   * @param options - run options: `signal`, `onProgress`...
   * @example
   * ```ts
   * const anyDown = await pipe(hosts).map(ping, { workers: 16 }).some((reply) => !reply.ok);
   * ```
   */
  some(pred: (value: T) => unknown, options?: RunOptions): Promise<boolean> {
    return this.#first("some", pred, false, options).then((found) => found.length > 0);
  }

  /**
   * Resolves `false` as soon as an element fails `pred` (stopping the run, as {@link take}
   * does), or `true` once every element passed (an empty pipeline included). `pred` may be async.
   *
   * @param pred - `(x) => boolean | Promise<boolean>`
   * @param options - run options: `signal`, `onProgress`...
   * @example
   * ```ts
   * const allValid = await pipe(records).every((record) => record.id !== undefined);
   * ```
   */
  every(pred: (value: T) => unknown, options?: RunOptions): Promise<boolean> {
    return this.#first("every", pred, true, options).then((found) => found.length === 0);
  }

  /**
   * Runs the pipeline to the end, discarding its elements: for pipelines run for their
   * side effects (`each`).
   *
   * @param options - `signal`: aborting it tears the run down and rejects with its reason
   * @example
   * ```ts
   * await pipe(rows).each((row) => db.insert(row), { workers: 8 }).run();
   * ```
   */
  async run(options: RunOptions = NO_RUN_OPTIONS): Promise<void> {
    await collect(this.#graph.node, checkRunOptions("run", options), false);
  }

  /**
   * An async iterator over a new run, with a caller's `signal`. Leaving the loop early
   * (`break`, `return`, a throw) tears the run down. An element of an acknowledged source
   * (`source(items, { settle })`) is done when a later `next()` asks past it; the one in the
   * loop's hand when it leaves early is released.
   *
   * @param options - `signal`: aborting it tears the run down; the loop then throws its reason
   * @example
   * ```ts
   * const controller = new AbortController();
   * for await (const user of pipe(ids).map(fetchUser).iterate({ signal: controller.signal })) {
   *   console.log(user);
   * }
   * ```
   */
  iterate(options: RunOptions = NO_RUN_OPTIONS): AsyncIterableIterator<T> {
    return iterate(this.#graph.node, checkRunOptions("iterate", options)) as AsyncIterableIterator<T>;
  }

  /**
   * A WHATWG `ReadableStream` over a new run. It pulls: the run starts on the first read,
   * and the stream asks the pipeline for an element only when a reader asks the stream (no
   * queue of its own, `highWaterMark` 0), so backpressure reaches the source. Cancelling the
   * stream tears the run down and settles once every in-flight call and `onDone` has; a
   * failed run errors the stream with the run's error object itself, once torn down, whether
   * or not a read is pending (so `reader.closed` rejects).
   *
   * @param options - `signal`: aborting it tears the run down and errors the stream with its reason
   * @example
   * ```ts
   * // NDJSON from a server: bytes, one JSON document per line.
   * const body = pipe(ids)
   *   .map(fetchUser, { workers: 8 })
   *   .map((user) => `${JSON.stringify(user)}\n`)
   *   .toReadableStream()
   *   .pipeThrough(new TextEncoderStream());
   * return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
   * ```
   */
  toReadableStream(options: RunOptions = NO_RUN_OPTIONS): ReadableStream<T> {
    const checked = checkRunOptions("toReadableStream", options);
    let iterator: AsyncIterableIterator<unknown> | undefined;
    return new ReadableStream<T>(
      {
        pull: async (controller) => {
          // A run that fails between reads errors the stream at once, not at the next pull.
          iterator ??= iterate(this.#graph.node, checked, (error) => controller.error(error));
          const result = await iterator.next();
          if (result.done === true) controller.close();
          else controller.enqueue(result.value as T);
        },
        cancel: async () => {
          await iterator?.return?.();
        },
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * `for await (const x of pipeline)`: each element as soon as it is ready.
   *
   * @example
   * ```ts
   * for await (const user of pipe(ids).map(fetchUser, { workers: 4 })) console.log(user);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this.iterate();
  }

  /**
   * Makes `await pipeline` run it and give all its elements, like `toArray()`.
   *
   * @example
   * ```ts
   * const doubled: number[] = await pipe([1, 2, 3]).map((x) => x * 2);
   * ```
   */
  then<R1 = T[], R2 = never>(
    onFulfilled?: ((value: T[]) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.toArray().then(onFulfilled, onRejected);
  }

  #slice<U>(node: SliceNode): Pipeline<U> {
    return new Pipeline(new Graph(node, this.#graph.depth));
  }

  /** The first element (as a one-element array) for which `pred` is truthy, or falsy when `negate`; the run stops there. */
  #first(method: "find" | "some" | "every", pred: (value: T) => unknown, negate: boolean, options: RunOptions = NO_RUN_OPTIONS): Promise<T[]> {
    try {
      checkFunction(method, "pred", pred);
      const test = negate ? (value: T): unknown => not(pred(value)) : (value: T): unknown => pred(value);
      const depth = this.#graph.depth + 1;
      const tested = this.#stage<T>("filter", test, { name: `${method}#${depth}` });
      return tested.#slice<T>(createSliceNode(tested.#graph.node, "take", 1, undefined, method)).toArray(options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #stage<U>(kind: StageKind, f: unknown, options: unknown, method: StageMethod | "parse" = kind): Pipeline<U> {
    const depth = this.#graph.depth + 1;
    const settings = resolveStage(method, f, options, depth);
    return new Pipeline(new Graph(createStageNode(kind, this.#graph.node, f as StageFunction, settings), depth));
  }
}

/** Applies `ops` in order; the shared body of `pipe(source, ...ops)` and `through(...ops)`, named by `method` in errors. */
export function applyOperators(
  pipeline: Pipeline<unknown>,
  ops: readonly Operator<any, any>[],
  method: "pipe" | "through",
): Pipeline<unknown> {
  let result = pipeline;
  for (const op of ops) {
    if (typeof op !== "function") {
      throw new TypeError(`${method}(): every operator must be a function (received ${describeValue(op)})`);
    }
    result = op(result);
  }
  return result;
}
