import type { Node } from "@sluice/core";
import { readGraph } from "./graph.js";
import type { Pipeline } from "./pipeline.js";

/** Where the walk goes next and what it does with the entry at `at`: keep it and go on (`concat`), leave the path alone (`next`), or drop `drop` entries and stop. */
interface Step {
  readonly next: Node | null;
  /** -1: the entry is this node's (kept, and the walk moves past it); 0: none; n > 0: drop n and stop. */
  readonly drop: number;
}

type StepOf<N extends Node> = (node: N, index: readonly number[], at: number) => Step;

/** Stages and `ordered()` leave the front of the path alone; a flatMap's entries are at its end. */
const passThrough = (node: { readonly input: Node }): Step => ({ next: node.input, drop: 0 });

// One step per node kind (a record, so a new kind fails to compile until it is handled here).
const STEPS: { readonly [K in Node["kind"]]: StepOf<Extract<Node, { kind: K }>> } = {
  // The entry at `at` is the element's position in its source: this run's, not the element's.
  source: () => ({ next: null, drop: 1 }),
  // What a batch gathers differs from run to run: its position and the element's place in its
  // first expansion say nothing about the source element.
  batch: () => ({ next: null, drop: 2 }),
  // A concat prepends its input's position (argument order: stable); follow that input.
  concat: (node, index, at) => ({ next: node.inputs[index[at]!] ?? null, drop: -1 }),
  map: passThrough,
  filter: passThrough,
  flatMap: passThrough,
  each: passThrough,
  ordered: passThrough,
  // take, takeWhile and drop pass elements on with their paths.
  slice: passThrough,
};

/**
 * The part of an element's index path that is the same whenever its source element is read
 * again (a redelivered queue message, a retried job): `index` is `ctx.index` in a stage
 * applied to `pipeline`, and the result leaves out the source element's position in this
 * run. `concat` positions and expansion positions are kept. After a `batch()`, the batch's
 * position and the element's place in the batch's first expansion (a `flat()`) are left
 * out as well, since which elements a batch gathers differs from run to run.
 *
 * Use it to derive idempotent keys for what a pipeline writes, as `@sluice/bullmq`'s
 * `enqueue` does.
 *
 * @example
 * ```ts
 * const parts = concat(pipe(a), pipe(b)).flatMap((x) => x.parts);
 * parts.each((part, ctx) => write(part, pathBelowSource(parts, ctx.index)));
 * // an element at ctx.index [1, 7, 2] (input b, its 8th element, part 2) gets [1, 2]
 * ```
 */
export function pathBelowSource(pipeline: Pipeline<unknown>, index: readonly number[]): number[] {
  const graph = readGraph(pipeline);
  if (graph === undefined) throw new TypeError("pathBelowSource(): pipeline must be a Pipeline");
  const path = [...index];
  let node: Node | null = graph.node;
  let at = 0;
  while (node !== null && at < path.length) {
    const step = (STEPS[node.kind] as StepOf<Node>)(node, path, at);
    if (step.drop === -1) {
      at++;
    } else if (step.drop > 0) {
      path.splice(at, step.drop);
      break;
    }
    node = step.next;
  }
  return path;
}
