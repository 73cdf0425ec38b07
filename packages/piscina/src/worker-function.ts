/**
 * What a worker module exports for piscina to call: a function of one task, sync or async.
 * Use it to name the type of a worker's export, `typeof hash` after
 * `import type hash from "./hash.worker.js"`, and let {@link TaskOf} and {@link ResultOf}
 * read the element types from it.
 *
 * @example
 * ```ts
 * // hash.worker.ts, compiled to hash.worker.js: export default (text: string) => sha256(text);
 * import type hash from "./hash.worker.js";
 * const f: WorkerFunction = hash;
 * type In = TaskOf<typeof hash>;     // string
 * type Out = ResultOf<typeof hash>;  // what sha256 returns, awaited
 * ```
 */
export type WorkerFunction = (task: never) => unknown;

/**
 * The task (input) type of a worker function: its first parameter.
 *
 * @example
 * ```ts
 * type In = TaskOf<(bytes: Uint8Array) => string>; // Uint8Array
 * ```
 */
export type TaskOf<F extends WorkerFunction> = F extends (task: infer T) => unknown ? T : never;

/**
 * The result type of a worker function, awaited (a worker may be async; the main thread
 * receives the value).
 *
 * @example
 * ```ts
 * type Out = ResultOf<(bytes: Uint8Array) => Promise<string>>; // string
 * ```
 */
export type ResultOf<F extends WorkerFunction> = Awaited<ReturnType<F>>;

/**
 * The worker function assumed when none is named: any task, an `unknown` result.
 *
 * @example
 * ```ts
 * pipe([1, 2]).map(onThreads(pool)); // Pipeline<unknown>: name the worker's type to get more
 * ```
 */
export type AnyWorkerFunction = (task: any) => unknown;
