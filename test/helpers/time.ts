/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The integers `0 .. n-1`. */
export function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}
