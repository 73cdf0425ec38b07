import { sleep } from "./time.js";

/** Counts calls of an async function in flight, remembering the largest count seen. */
export class ConcurrencyProbe {
  current = 0;
  max = 0;
  started = 0;
  settled = 0;

  /** Wraps `f` so every call is counted while it runs. */
  wrap<T, U>(f: (x: T) => Promise<U> | U): (x: T) => Promise<U> {
    return async (x: T) => {
      this.current++;
      this.started++;
      if (this.current > this.max) this.max = this.current;
      try {
        return await f(x);
      } finally {
        this.current--;
        this.settled++;
      }
    };
  }
}

/** An infinite source of `0, 1, 2, ...` that counts how often it was pulled and whether it was closed. */
export class CountingSource implements Iterable<number> {
  pulls = 0;
  returned = 0;
  finallyRan = 0;

  *[Symbol.iterator](): Generator<number> {
    try {
      for (;;) {
        this.pulls++;
        yield this.pulls - 1;
      }
    } finally {
      this.finallyRan++;
    }
  }
}

/**
 * An infinite async generator factory whose `finally` is observable: `pulls` counts the
 * elements produced, `closed` turns true when the generator's `finally` ran.
 */
export function asyncTicker(delayMs = 1): { readonly source: () => AsyncGenerator<number>; readonly state: { pulls: number; closed: boolean } } {
  const state = { pulls: 0, closed: false };
  async function* source(): AsyncGenerator<number> {
    try {
      for (;;) {
        await sleep(delayMs);
        yield state.pulls++;
      }
    } finally {
      state.closed = true;
    }
  }
  return { source, state };
}

/** Sorts numbers ascending, without mutating the input. */
export const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
