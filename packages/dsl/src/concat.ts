import { createConcatNode } from "@sluice/core";
import { Pipeline } from "./pipeline.js";
import { Graph, graphOf } from "./graph.js";
import type { ElementOf, Source } from "./source.js";

/**
 * Merges several sources (pipelines, arrays, async iterables, streams) into one pipeline
 * whose elements arrive as each input produces them. Each element's index path gets its
 * input's position prepended, so `ordered()` after `concat` gives all of the first input,
 * then all of the second, and so on. A pipeline used in more than one input runs once and
 * its elements go to every input that uses it (broadcast). With no sources, the pipeline is empty.
 *
 * @example
 * ```ts
 * const numbersAndWords = concat(pipe([1, 2]).map((x) => x * 10), ["a", "b"]); // Pipeline<number | string>
 * await numbersAndWords.ordered(); // [10, 20, "a", "b"]
 * ```
 */
export function concat<S extends readonly Source<unknown>[]>(...sources: S): Pipeline<ElementOf<S[number]>> {
  if (sources.length === 0) return new Pipeline(graphOf([], "concat"));
  const graphs = sources.map((source) => graphOf(source, "concat"));
  const depth = Math.max(...graphs.map((graph) => graph.depth));
  return new Pipeline(new Graph(createConcatNode(graphs.map((graph) => graph.node)), depth));
}
