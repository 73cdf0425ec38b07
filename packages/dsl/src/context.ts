/**
 * What `onStart` receives; `onDone` receives it merged with `onStart`'s result.
 *
 * @example
 * ```ts
 * pipe(urls).map(fetchJson, {
 *   onStart: (info) => { console.log(`${info.stage} starting`); return { agent: new Agent() }; },
 *   onDone: ({ agent }) => agent.close(),
 * });
 * ```
 */
export interface HookInfo {
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
  /** Aborts when the run is torn down (an error, an early exit, or the caller's abort). */
  readonly signal: AbortSignal;
}

/**
 * The keys the engine puts into every `ctx`; `onStart` may not return them.
 *
 * @example
 * ```ts
 * const logIndex = (x: string, { index, stage }: EngineContext) => console.log(stage, index, x);
 * await pipe(["a", "b"]).each(logIndex).run(); // "each#1 [0] a", "each#1 [1] b" in some order
 * ```
 */
export interface EngineContext {
  /** Aborts when the run is torn down or this call times out; pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** The element's index path: its position in the source, then inside each `flatMap` expansion; `concat` prepends the input's position. */
  readonly index: readonly number[];
  /** The stage's name (`name` option, or `map#2` style). */
  readonly stage: string;
}

/**
 * The second argument of every `f`: what `onStart` returned (`C`, typed by inference) plus
 * `signal`, `index` and `stage`.
 *
 * @example
 * ```ts
 * pipe(ids).map(async (id, ctx) => {
 *   const response = await fetch(`https://api.example.com/users/${id}`, { signal: ctx.signal });
 *   return response.json();
 * });
 * ```
 */
export type Context<C extends object = {}> = C & EngineContext;
