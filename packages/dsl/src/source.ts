import type { Pipeline } from "./pipeline.js";

/**
 * A source that can be iterated directly.
 *
 * @example
 * ```ts
 * const lines: IterableSource<string> = Readable.from(["a", "b"]);
 * ```
 */
export type IterableSource<T> = Iterable<T> | AsyncIterable<T> | ReadableStream<T>;

/**
 * Anything `pipe()` and `concat()` accept: an array or other `Iterable`, an `AsyncIterable`
 * (async generators, Node `Readable` in object mode, WHATWG `ReadableStream`), a
 * `Pipeline`, a `Promise` of one of these, or a zero-argument function returning one
 * (called once per run, which makes one-shot sources such as generators re-runnable).
 *
 * @example
 * ```ts
 * const fromArray: Source<number> = [1, 2, 3];
 * const fromGenerator: Source<number> = async function* () { yield 1; yield 2; };
 * const fromPromise: Source<string> = fetchNames(); // Promise<string[]>
 * ```
 */
export type Source<T> =
  | IterableSource<T>
  | Pipeline<T>
  | PromiseLike<IterableSource<T>>
  | (() => IterableSource<T> | PromiseLike<IterableSource<T>>);

/**
 * The element type of a {@link Source}.
 *
 * @example
 * ```ts
 * type N = ElementOf<number[]>; // number
 * type S = ElementOf<() => AsyncGenerator<string>>; // string
 * ```
 */
export type ElementOf<S> =
  S extends Pipeline<infer T>
    ? T
    : S extends AsyncIterable<infer T>
      ? T
      : S extends Iterable<infer T>
        ? T
        : S extends ReadableStream<infer T>
          ? T
          : S extends PromiseLike<infer P>
            ? ElementOf<P>
            : S extends () => infer R
              ? ElementOf<R>
              : never;
