import { OptionsError, createSourceNode, type Settle, type SourceOutcome } from "@sluice/core";
import { checkObject } from "./options-error.js";
import { Graph, graphOf } from "./graph.js";
import { Pipeline } from "./pipeline.js";

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

/**
 * Options of {@link source}.
 *
 * @example
 * ```ts
 * const options: SourceOptions<Message> = {
 *   settle: (message, outcome) => (outcome.status === "done" ? message.ack() : message.nack()),
 * };
 * ```
 */
export interface SourceOptions<T> {
  /**
   * Called exactly once for every element the run takes from the source, with what became
   * of it ({@link SourceOutcome}): `"done"` once every element derived from it was
   * delivered, filtered out, expanded to nothing or finished by `each` (with `for await`,
   * delivered means asked past: done when the loop asks for the next element); `"failed"`
   * when one of them failed; `"released"` when the run was torn down first, the element in
   * a `for await` loop's hand included when the loop exits by `break`, `return` or a throw
   * (at least once: it is redelivered, never lost). Every open element
   * settles before the run settles; a returned promise is awaited like `onDone`, and a
   * throw or rejection fails the run.
   */
  readonly settle: Settle<T>;
}

/**
 * A source whose elements are acknowledged: `settle(element, outcome)` is called once per
 * element taken from `items`, after everything derived from it has finished (see
 * {@link SourceOptions.settle}). Use it to acknowledge work taken from a durable queue only
 * once it is done (at-least-once delivery). `items` is anything {@link pipe} accepts.
 * Sources that do not settle cost nothing for this.
 *
 * @example
 * ```ts
 * const done: number[] = [];
 * await pipe(source([1, 2, 3], { settle: (x, outcome) => { if (outcome.status === "done") done.push(x); } }))
 *   .map((x) => x * 2)
 *   .filter((x) => x > 2)
 *   .run();
 * // done holds 1, 2 and 3: 1 was filtered out, 2 and 3 delivered
 * ```
 */
export function source<T>(items: Source<T>, options: SourceOptions<NoInfer<T>>): Pipeline<T> {
  checkObject("source", options);
  const settle = (options as { settle?: unknown }).settle;
  if (typeof settle !== "function") {
    throw OptionsError.invalid("source", ["options", "settle"], "a function", settle);
  }
  for (const key of Object.keys(options)) {
    if (key !== "settle") throw OptionsError.notAnOption("source", ["options", key], ["settle"], (options as unknown as Record<string, unknown>)[key]);
  }
  // graphOf checks the form of `items`. A pipeline that is more than a plain source is read
  // as the elements of a nested run; a plain one gives its source.
  const node = graphOf(items, "source").node;
  const plain = node.kind === "source" && node.settle === undefined;
  return new Pipeline<T>(new Graph(createSourceNode(plain ? node.source : items, settle as Settle<unknown>), 0));
}
