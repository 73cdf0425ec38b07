import { createSourceNode, describeValue, isSourceLike, type Node } from "@sluice/core";

/** The graph and stage count a pipeline carries (a class, not a literal: docs/design.md §14). */
export class Graph {
  constructor(
    readonly node: Node,
    /** Stages on the longest path from a source, for `map#2` style default names. */
    readonly depth: number,
  ) {}
}

/** The graph behind a pipeline value; `Pipeline` registers it, so this file needs no import of it. */
let graphReader: (value: object) => Graph | undefined = () => undefined;

/** Called once by `Pipeline`'s static block with a reader of its private graph. */
export function registerGraphReader(reader: (value: object) => Graph | undefined): void {
  graphReader = reader;
}

/** The graph behind `value` when it is a pipeline, else `undefined`. */
export function readGraph(value: unknown): Graph | undefined {
  return typeof value === "object" && value !== null ? graphReader(value) : undefined;
}

/**
 * The graph for `source`: a pipeline's own graph, or a new source node. Throws a
 * `TypeError` naming `method` when `source` cannot be a source.
 */
export function graphOf(source: unknown, method: "pipe" | "concat" | "source"): Graph {
  const graph = readGraph(source);
  if (graph !== undefined) return graph;
  if (!isSourceLike(source)) {
    throw new TypeError(
      `${method}(): the source must be an array, an Iterable, an AsyncIterable, a ReadableStream, a Pipeline, ` +
        `a Promise of one, or a function returning one (received ${describeValue(source)})`,
    );
  }
  return new Graph(createSourceNode(source), 0);
}
