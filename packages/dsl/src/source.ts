import { createSourceNode, type Node } from "@sluice/core";
import { readGraph, type Pipeline } from "./pipeline.js";

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

/** The graph and stage count a pipeline carries (a class, not a literal: see PERF-NOTES §4). */
export class Graph {
  constructor(
    readonly node: Node,
    /** Stages on the longest path from a source, for `map#2` style default names. */
    readonly depth: number,
  ) {}
}

/** The graph for `source`: a pipeline's own graph, or a new source node (TypeError if invalid). */
export function graphOf(source: unknown, method: string): Graph {
  const graph = typeof source === "object" && source !== null ? readGraph(source) : undefined;
  if (graph !== undefined) return graph;
  try {
    return new Graph(createSourceNode(source), 0);
  } catch (error) {
    if (error instanceof TypeError && method !== "pipe") {
      throw new TypeError(error.message.replace(/^pipe\(\)/, `${method}()`));
    }
    throw error;
  }
}
