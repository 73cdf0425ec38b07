import type { EngineContext } from "@sluice/core";

export type { EngineContext, HookInfo } from "@sluice/core";

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
