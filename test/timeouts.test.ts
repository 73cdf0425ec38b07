import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TimeoutError, pipe, type Context } from "@sluice/dsl";
import { range, sleep } from "./helpers/time.js";
import { sorted } from "./helpers/probes.js";

/** Settles `promise` into a value or a caught error, so fake time can be advanced meanwhile. */
function settle<T>(promise: PromiseLike<T>): { readonly state: { done: boolean; value?: T; error?: unknown } } {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => {
      state.done = true;
      state.value = value;
    },
    (error: unknown) => {
      state.done = true;
      state.error = error;
    },
  );
  return { state };
}

describe("timeouts", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('onTimeout: "error" (the default)', () => {
    it("fails the run with a TimeoutError naming the stage, the limit and the element's index", async () => {
      const { state } = settle(
        pipe([10, 20, 500, 30])
          .map(async (ms) => (await sleep(ms), ms), { timeout: 100 })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(1_000);
      expect(state.done).toBe(true);
      const error = state.error as TimeoutError;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe("TimeoutError");
      expect(error.stage).toBe("map#1");
      expect(error.timeout).toBe(100);
      expect(error.index).toEqual([2]);
      expect(error.message).toContain("map#1");
      expect(error.message).toContain("100 ms");
    });

    it("uses the stage's name option in the error", async () => {
      const { state } = settle(
        pipe([1])
          .map((x) => x)
          .filter(async () => (await sleep(50), true), { timeout: 5, name: "slow-check" })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(100);
      expect(state.error).toBeInstanceOf(TimeoutError);
      expect((state.error as TimeoutError).stage).toBe("slow-check");
      expect((state.error as TimeoutError).timeout).toBe(5);
    });

    it("aborts the timed-out call's ctx.signal with the TimeoutError", async () => {
      let signal: AbortSignal | undefined;
      const { state } = settle(
        pipe([1])
          .map(
            async (x, ctx: Context) => {
              signal = ctx.signal;
              await sleep(1_000);
              return x;
            },
            { timeout: 20 },
          )
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(25);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toBe(state.error);
      expect(state.error).toBeInstanceOf(TimeoutError);
    });

    it("abandons the call: the run settles without waiting for it", async () => {
      let finished = false;
      const { state } = settle(
        pipe([1])
          .map(
            async () => {
              await sleep(1_000); // ignores its signal
              finished = true;
            },
            { timeout: 10 },
          )
          .run(),
      );
      await vi.advanceTimersByTimeAsync(20);
      expect(state.error).toBeInstanceOf(TimeoutError);
      expect(finished).toBe(false);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(finished).toBe(true);
    });

    it("reports the full index path of a flatMap child", async () => {
      const { state } = settle(
        pipe([0, 1, 2])
          .flatMap((x) => [x, x + 10])
          .map(async (y) => (await sleep(y === 11 ? 500 : 1), y), { timeout: 50, workers: 2 })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(600);
      expect((state.error as TimeoutError).index).toEqual([1, 1]);
      expect((state.error as TimeoutError).stage).toBe("map#2");
    });

    it("calls that finish within the limit are not affected", async () => {
      const { state } = settle(
        pipe(() => range(20))
          .map(async (x) => (await sleep(x % 5), x), { timeout: 10, workers: 4 })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(200);
      expect(sorted(state.value as number[])).toEqual([...range(20)]);
    });
  });

  describe('onTimeout: "skip"', () => {
    it("drops a timed-out element silently and keeps the rest", async () => {
      const { state } = settle(
        pipe([1, 2, 3, 4, 5])
          .map(async (x) => (await sleep(x === 2 || x === 4 ? 1_000 : 5), x * 10), {
            timeout: 50,
            onTimeout: "skip",
            workers: 2,
          })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(2_000);
      expect(state.error).toBeUndefined();
      expect(sorted(state.value as number[])).toEqual([10, 30, 50]);
    });

    it("ignores the late result of an abandoned call", async () => {
      const emitted: number[] = [];
      const consumed = (async () => {
        for await (const x of pipe([1, 2]).map(async (x) => (await sleep(x === 1 ? 100 : 1), x), {
          timeout: 20,
          onTimeout: "skip",
        })) {
          emitted.push(x);
        }
      })();
      await vi.advanceTimersByTimeAsync(500);
      await consumed;
      expect(emitted).toEqual([2]);
    });

    it("aborts the skipped call's signal with a TimeoutError", async () => {
      const signals: AbortSignal[] = [];
      const { state } = settle(
        pipe([1]).map(
          async (x, ctx) => {
            signals.push(ctx.signal);
            await sleep(100);
            return x;
          },
          { timeout: 10, onTimeout: "skip" },
        ),
      );
      await vi.advanceTimersByTimeAsync(200);
      expect(state.value).toEqual([]);
      expect(signals[0]?.reason).toBeInstanceOf(TimeoutError);
    });

    it("does not stall ordered(): skipped positions are passed over", async () => {
      const { state } = settle(
        pipe(() => range(8))
          .map(async (x) => (await sleep(x % 3 === 0 ? 1_000 : 8 - x), x), {
            timeout: 50,
            onTimeout: "skip",
            workers: 4,
          })
          .ordered()
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(2_000);
      expect(state.value).toEqual([1, 2, 4, 5, 7]);
    });
  });

  describe("what the limit counts", () => {
    it("time spent blocked on a full downstream queue does not count", async () => {
      const { state } = settle(
        pipe(() => range(6))
          .map(async (x) => (await sleep(5), x), { timeout: 20, workers: 2, maxsize: 1 })
          .map(async (x) => (await sleep(100), x), { workers: 1, maxsize: 1 })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(2_000);
      expect(state.error).toBeUndefined();
      expect(sorted(state.value as number[])).toEqual([...range(6)]);
    });

    it("time spent waiting in the stage's input queue does not count", async () => {
      const { state } = settle(
        pipe(() => range(10))
          .map(async (x) => (await sleep(15), x), { timeout: 20, workers: 1, maxsize: 0 })
          .toArray(),
      );
      await vi.advanceTimersByTimeAsync(1_000);
      expect(state.error).toBeUndefined();
      expect(state.value).toEqual([...range(10)]);
    });

    it("time a slow consumer takes does not count", async () => {
      const seen: number[] = [];
      const consumed = (async () => {
        for await (const x of pipe(() => range(4)).map(async (x) => (await sleep(1), x), { timeout: 10, maxsize: 1 })) {
          seen.push(x);
          await sleep(100);
        }
      })();
      await vi.advanceTimersByTimeAsync(1_000);
      await consumed;
      expect(seen).toEqual([0, 1, 2, 3]);
    });
  });
});
