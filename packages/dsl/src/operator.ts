import type { Pipeline } from "./pipeline.js";

/**
 * A reusable step: a function from one pipeline to another. {@link map}, {@link filter},
 * {@link flatMap}, {@link each} and {@link ordered} make them; `pipe(source, ...ops)` and
 * `pipeline.through(...ops)` apply them.
 *
 * @example
 * ```ts
 * const parse: Operator<string, number> = (p) => p.map(Number).filter((n) => !Number.isNaN(n));
 * const total = await pipe(["1", "x", "2"], parse);
 * ```
 */
export type Operator<In, Out> = (pipeline: Pipeline<In>) => Pipeline<Out>;
