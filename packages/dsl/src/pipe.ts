import type { Operator } from "./operator.js";
import { Pipeline, applyOperators } from "./pipeline.js";
import { graphOf } from "./graph.js";
import type { Source } from "./source.js";

/**
 * Starts a pipeline from `source` and applies any operators in order (Pypeln's
 * `data | pl.task.map(f) | ...`). Nothing runs until the pipeline is consumed.
 *
 * `source` may be an array or any `Iterable`, an `AsyncIterable` (async generators, Node
 * `Readable` in object mode, WHATWG `ReadableStream`), a `Pipeline`, a `Promise` of one of
 * these, or a zero-argument function returning one (called once per run). Anything else
 * throws a `TypeError` here.
 *
 * @example
 * ```ts
 * const a = await pipe([1, 2, 3]).map((x) => x * 2);                      // [2, 4, 6] in some order
 * const b = await pipe([1, 2, 3], map((x) => x * 2), filter((x) => x > 2)); // [4, 6] in some order
 * const c = await pipe(async function* () { yield "re-runnable"; });
 * ```
 */
export function pipe<T>(source: Source<T>): Pipeline<T>;
export function pipe<T, A>(source: Source<T>, op1: Operator<T, A>): Pipeline<A>;
export function pipe<T, A, B>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>): Pipeline<B>;
export function pipe<T, A, B, C>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>): Pipeline<C>;
export function pipe<T, A, B, C, D>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>): Pipeline<D>;
export function pipe<T, A, B, C, D, E>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>): Pipeline<E>;
export function pipe<T, A, B, C, D, E, F>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>): Pipeline<F>;
export function pipe<T, A, B, C, D, E, F, G>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>): Pipeline<G>;
export function pipe<T, A, B, C, D, E, F, G, H>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>): Pipeline<H>;
export function pipe<T, A, B, C, D, E, F, G, H, I>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>): Pipeline<I>;
export function pipe<T, A, B, C, D, E, F, G, H, I, J>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>, op10: Operator<I, J>): Pipeline<J>;
export function pipe<T, A, B, C, D, E, F, G, H, I, J, K>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>, op10: Operator<I, J>, op11: Operator<J, K>): Pipeline<K>;
export function pipe<T, A, B, C, D, E, F, G, H, I, J, K, L>(source: Source<T>, op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>, op10: Operator<I, J>, op11: Operator<J, K>, op12: Operator<K, L>): Pipeline<L>;
// Past twelve operators the first twelve are still checked; the rest are not.
export function pipe<T, A, B, C, D, E, F, G, H, I, J, K, L>(
  source: Source<T>,
  op1: Operator<T, A>, op2: Operator<A, B>, op3: Operator<B, C>, op4: Operator<C, D>, op5: Operator<D, E>, op6: Operator<E, F>, op7: Operator<F, G>, op8: Operator<G, H>, op9: Operator<H, I>, op10: Operator<I, J>, op11: Operator<J, K>, op12: Operator<K, L>,
  ...rest: Operator<any, any>[]
): Pipeline<unknown>;
// Any number of operators that keep the element type, e.g. an array built at run time.
export function pipe<T>(source: Source<T>, ...ops: readonly Operator<T, T>[]): Pipeline<T>;
export function pipe(source: Source<unknown>, ...ops: Operator<any, any>[]): Pipeline<unknown> {
  return applyOperators(new Pipeline<unknown>(graphOf(source, "pipe")), ops, "pipe");
}
