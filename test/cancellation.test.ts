import { describe, expect, it, vi } from "vitest";
import { pipe, type Context } from "@sluice/dsl";
import { CountingSource, asyncTicker } from "./helpers/probes.js";
import { deferred, range, sleep, tick, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/**
 * A stage function whose calls (except those `hold` rejects, by default element 0) wait for their
 * `ctx.signal` to abort, then linger `lingerMs` before settling, like a real request
 * being cancelled. Records every call's signal and whether calls are still in flight.
 */
function heldCalls(lingerMs = 5, hold: (x: number) => boolean = (x) => x !== 0) {
  const state = {
    started: 0,
    inFlight: 0,
    signals: [] as AbortSignal[],
    startedAfterTeardown: 0,
    tornDown: false,
  };
  const f = async (x: number, ctx: Context): Promise<number> => {
    state.started++;
    if (state.tornDown) state.startedAfterTeardown++;
    state.signals.push(ctx.signal);
    if (!hold(x)) return x;
    state.inFlight++;
    try {
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      await sleep(lingerMs);
      return x;
    } finally {
      state.inFlight--;
    }
  };
  return { f, state };
}

describe("teardown on break", () => {
  it("aborts every in-flight ctx.signal with an AbortError DOMException", async () => {
    const { f, state } = heldCalls();
    for await (const x of pipe(new CountingSource()).map(f, { workers: 3 })) {
      expect(x).toBe(0);
      await until(() => state.inFlight === 3, "three held calls");
      break;
    }
    const held = state.signals.slice(1);
    expect(held).toHaveLength(3);
    for (const signal of held) {
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(DOMException);
      expect((signal.reason as DOMException).name).toBe("AbortError");
    }
  });

  it("the loop exits only after the in-flight calls have settled", async () => {
    const { f, state } = heldCalls(8);
    for await (const _ of pipe(new CountingSource()).map(f, { workers: 4 })) {
      await until(() => state.inFlight === 4, "four held calls");
      break;
    }
    expect(state.inFlight).toBe(0);
  });

  it("starts no new call after the break", async () => {
    const { f, state } = heldCalls();
    for await (const _ of pipe(new CountingSource()).map(f, { workers: 2, maxsize: 4 })) {
      await until(() => state.inFlight === 2, "two held calls");
      state.tornDown = true;
      break;
    }
    const started = state.started;
    await sleep(10);
    expect(state.started).toBe(started);
    expect(state.startedAfterTeardown).toBe(0);
  });

  it("runs a sync generator source's finally exactly once", async () => {
    const source = new CountingSource();
    for await (const x of pipe(source).map((x) => x * 2)) {
      if (x === 10) break;
    }
    expect(source.finallyRan).toBe(1);
  });

  it("closes an async generator source, whose finally runs once its pending next() settles", async () => {
    const { source, state } = asyncTicker(1);
    for await (const x of pipe(source).map((x) => x)) {
      if (x === 3) break;
    }
    await until(() => state.closed, "the generator's finally");
    const pulls = state.pulls;
    await sleep(5);
    expect(state.pulls).toBe(pulls);
  });

  it("calls a hand-written source iterator's return() exactly once", async () => {
    const returnSpy = vi.fn(() => ({ done: true as const, value: undefined }));
    let i = 0;
    const source: Iterable<number> = {
      [Symbol.iterator]: () => ({ next: () => ({ done: false, value: i++ }), return: returnSpy }),
    };
    for await (const x of pipe(source)) {
      if (x === 2) break;
    }
    expect(returnSpy).toHaveBeenCalledTimes(1);
  });

  it("does not wait for a pending source next() that cannot be interrupted", async () => {
    const returnSpy = vi.fn(async () => ({ done: true as const, value: undefined }));
    let calls = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => (calls++ === 0 ? Promise.resolve({ done: false, value: 1 }) : new Promise(() => undefined)),
        return: returnSpy,
      }),
    };
    for await (const x of pipe(source)) {
      expect(x).toBe(1);
      await until(() => calls === 2, "the second next() to be pending");
      break;
    }
    expect(returnSpy).toHaveBeenCalledTimes(1);
  });

  it("a return from inside the loop tears down like break", async () => {
    const source = new CountingSource();
    const { f, state } = heldCalls();
    const first = async () => {
      for await (const x of pipe(source).map(f, { workers: 2 })) {
        await until(() => state.inFlight === 2, "two held calls");
        return x;
      }
      return -1;
    };
    expect(await first()).toBe(0);
    expect(state.inFlight).toBe(0);
    expect(state.signals.slice(1).every((s) => s.aborted)).toBe(true);
    expect(source.finallyRan).toBe(1);
  });

  it("a throw in the loop body tears the run down and the body's error propagates unchanged", async () => {
    const source = new CountingSource();
    const { f, state } = heldCalls();
    const mine = new Error("loop body");
    let caught: unknown;
    try {
      for await (const _ of pipe(source).map(f, { workers: 2 })) {
        await until(() => state.inFlight === 2, "two held calls");
        throw mine;
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(mine);
    expect(state.inFlight).toBe(0);
    expect(state.signals.slice(1).every((s) => s.aborted)).toBe(true);
    expect(source.finallyRan).toBe(1);
  });

  it("a break aborts the in-flight calls of every stage and waits for all of them", async () => {
    const first = heldCalls(5, (x) => x % 2 === 1);
    const second = heldCalls(5);
    const p = pipe(new CountingSource()).map(first.f, { workers: 3 }).map(second.f, { workers: 2 });
    for await (const x of p) {
      expect(x).toBe(0);
      await until(() => first.state.inFlight === 3 && second.state.inFlight === 2, "held calls in both stages");
      break;
    }
    expect(first.state.inFlight + second.state.inFlight).toBe(0);
    const held = [...first.state.signals.filter((_, i) => i % 2 === 1), ...second.state.signals.slice(1)];
    expect(held).toHaveLength(5);
    expect(held.every((s) => s.aborted)).toBe(true);
  });
});

describe("teardown of flatMap expansions", () => {
  it("break closes every in-flight expansion (its generator's finally runs)", async () => {
    let opened = 0;
    let closed = 0;
    const p = pipe(new CountingSource()).flatMap(
      function* (x) {
        opened++;
        try {
          for (let i = 0; ; i++) yield x * 1000 + i;
        } finally {
          closed++;
        }
      },
      { workers: 3, maxsize: 1 },
    );
    let taken = 0;
    for await (const _ of p) {
      if (++taken === 5) break;
    }
    expect(opened).toBeGreaterThanOrEqual(1);
    expect(closed).toBe(opened);
  });

  it("an error elsewhere closes in-flight async expansions", async () => {
    let opened = 0;
    let closed = 0;
    const boom = new Error("downstream");
    const p = pipe(() => range(3))
      .flatMap(
        async function* (x) {
          opened++;
          try {
            for (let i = 0; ; i++) {
              await sleep(1);
              yield x * 1000 + i;
            }
          } finally {
            closed++;
          }
        },
        { workers: 3 },
      )
      .map((y) => {
        if (y === 2003) throw boom;
        return y;
      });
    await expect(p.toArray()).rejects.toBe(boom);
    await until(() => closed === opened, "every expansion's finally");
    expect(opened).toBe(3);
  });
});

describe("teardown on error", () => {
  it("aborts every in-flight ctx.signal with the error itself", async () => {
    const boom = new Error("boom");
    const { f, state } = heldCalls();
    const p = pipe(() => range(100)).map(
      async (x, ctx) => {
        if (x === 0) {
          await until(() => state.inFlight === 3, "three held calls");
          throw boom;
        }
        return f(x, ctx);
      },
      { workers: 4 },
    );
    await expect(p.toArray()).rejects.toBe(boom);
    expect(state.signals).toHaveLength(3);
    for (const signal of state.signals) {
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBe(boom);
    }
  });

  it("the consumer's promise settles only after every in-flight call has settled", async () => {
    const boom = new Error("boom");
    const { f, state } = heldCalls(10);
    const p = pipe(new CountingSource()).map(
      async (x, ctx) => {
        if (x === 0) {
          await until(() => state.inFlight === 5, "five held calls");
          throw boom;
        }
        return f(x, ctx);
      },
      { workers: 6 },
    );
    await expect(p.run()).rejects.toBe(boom);
    expect(state.inFlight).toBe(0);
  });

  it("starts no new call and pulls no new element after the failure", async () => {
    const source = new CountingSource();
    let started = 0;
    let failed = false;
    let startedAfterFailure = 0;
    const p = pipe(source).map(
      async (x) => {
        started++;
        if (failed) startedAfterFailure++;
        await sleep(1);
        if (x === 7) {
          failed = true;
          throw new Error("seven");
        }
        return x;
      },
      { workers: 3 },
    );
    await expect(p.toArray()).rejects.toThrow("seven");
    const pulls = source.pulls;
    await sleep(10);
    expect(startedAfterFailure).toBe(0);
    expect(source.pulls).toBe(pulls);
    expect(started).toBeGreaterThanOrEqual(8);
    expect(source.finallyRan).toBe(1);
  });

  it("closes the source when a downstream stage fails", async () => {
    const { source, state } = asyncTicker(1);
    const p = pipe(source)
      .map((x) => x)
      .filter((x) => {
        if (x === 3) throw new Error("filter");
        return true;
      });
    await expect(p.toArray()).rejects.toThrow("filter");
    await until(() => state.closed, "the generator's finally");
  });
});

describe("teardown on the caller's abort", () => {
  it("toArray({ signal }) rejects with the signal's reason, as the same object", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const { f, state } = heldCalls();
    const result = pipe(new CountingSource()).map(f, { workers: 2 }).toArray({ signal: controller.signal });
    await until(() => state.inFlight === 2, "two held calls");
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(state.inFlight).toBe(0);
  });

  it("aborts every in-flight ctx.signal with the caller's reason", async () => {
    const controller = new AbortController();
    const reason = { why: "shutdown" };
    const { f, state } = heldCalls();
    const result = pipe(new CountingSource()).map(f, { workers: 3 }).run({ signal: controller.signal });
    await until(() => state.inFlight === 3, "three held calls");
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    for (const signal of state.signals.slice(1)) expect(signal.reason).toBe(reason);
  });

  it("abort() without a reason rejects with the signal's default AbortError", async () => {
    const controller = new AbortController();
    const result = pipe(new CountingSource()).map(async (x) => (await sleep(1), x)).toArray({ signal: controller.signal });
    await sleep(3);
    controller.abort();
    const error = await result.catch((e: unknown) => e);
    expect(error).toBe(controller.signal.reason);
    expect((error as DOMException).name).toBe("AbortError");
  });

  it("iterate({ signal }) makes the loop throw the reason and closes the source", async () => {
    const controller = new AbortController();
    const reason = new Error("stop iterating");
    const source = new CountingSource();
    const seen: number[] = [];
    let caught: unknown;
    try {
      for await (const x of pipe(source).map(async (x) => (await sleep(1), x)).iterate({ signal: controller.signal })) {
        seen.push(x);
        if (x === 2) controller.abort(reason);
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBe(reason);
    expect(seen.slice(0, 3)).toEqual([0, 1, 2]);
    expect(source.finallyRan).toBe(1);
  });

  it("an already-aborted signal starts nothing and rejects with its reason", async () => {
    const controller = new AbortController();
    const reason = new Error("too late");
    controller.abort(reason);
    let factoryCalls = 0;
    let fCalls = 0;
    const p = pipe(() => {
      factoryCalls++;
      return [1, 2, 3];
    }).map((x) => {
      fCalls++;
      return x;
    });
    await expect(p.toArray({ signal: controller.signal })).rejects.toBe(reason);
    await expect(p.run({ signal: controller.signal })).rejects.toBe(reason);
    await expect(p.iterate({ signal: controller.signal }).next()).rejects.toBe(reason);
    await sleep(5);
    expect([factoryCalls, fCalls]).toEqual([0, 0]);
  });

  it("stops a fully synchronous infinite pipeline (the engine yields to the event loop)", async () => {
    const controller = new AbortController();
    const reason = new Error("timer fired");
    const source = new CountingSource();
    setTimeout(() => controller.abort(reason), 5);
    await expect(
      pipe(source)
        .map((x) => x + 1)
        .filter((x) => x % 2 === 0)
        .run({ signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(source.pulls).toBeGreaterThan(0);
    expect(source.finallyRan).toBe(1);
  });

  it("aborting while the source promise is pending settles the run", async () => {
    const controller = new AbortController();
    const never = new Promise<number[]>(() => undefined);
    const result = pipe(never).toArray({ signal: controller.signal });
    await tick();
    controller.abort("aborted");
    await expect(result).rejects.toBe("aborted");
  });
});

describe("abort listeners", () => {
  function spiedSignal() {
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, "addEventListener");
    const remove = vi.spyOn(controller.signal, "removeEventListener");
    const live = () => {
      const added = add.mock.calls.filter(([type]) => type === "abort").map(([, listener]) => listener);
      const removed = new Set(remove.mock.calls.filter(([type]) => type === "abort").map(([, listener]) => listener));
      return added.filter((listener) => !removed.has(listener)).length;
    };
    return { controller, add, live };
  }

  it("are removed when a run succeeds, fails, or is left early", async () => {
    const { controller, add, live } = spiedSignal();
    const signal = controller.signal;
    await pipe([1, 2, 3]).map(async (x) => x).toArray({ signal });
    await pipe([1]).run({ signal });
    await expect(
      pipe([1])
        .map(() => {
          throw new Error("x");
        })
        .toArray({ signal }),
    ).rejects.toThrow("x");
    for await (const _ of pipe(new CountingSource()).iterate({ signal })) break;
    const iterator = pipe([1, 2]).iterate({ signal });
    while (!(await iterator.next()).done);
    expect(add).toHaveBeenCalled();
    expect(live()).toBe(0);
  });

  it("a long-lived signal shared by many runs holds no listener afterwards", async () => {
    const { controller, live } = spiedSignal();
    for (let i = 0; i < 50; i++) {
      await pipe([i, i + 1]).map(async (x) => x, { workers: 2 }).toArray({ signal: controller.signal });
    }
    expect(live()).toBe(0);
  });
});

describe("no unhandled rejections on teardown", () => {
  it("breaking while calls are about to fail leaks nothing", async () => {
    const p = pipe(new CountingSource()).map(
      async (x, ctx) => {
        await sleep(1);
        if (ctx.signal.aborted || x > 0) throw new Error(`late ${x}`);
        return x;
      },
      { workers: 4 },
    );
    for await (const _ of p) break;
    await sleep(10);
    expect(unhandled).toEqual([]);
  });
});

describe("ctx.signal per call", () => {
  it("each call that reads ctx.signal gets its own, so listeners never pile up on a shared signal", async () => {
    const signals: AbortSignal[] = [];
    const gate = deferred<void>();
    const p = pipe(range(40)).map(
      async (x, { signal }) => {
        signals.push(signal);
        // What fetch does: a listener per request on the signal it was given.
        signal.addEventListener("abort", () => undefined);
        await gate.promise;
        return x;
      },
      { workers: 20 },
    );
    const run = p.toArray();
    await until(() => signals.length === 20);
    expect(new Set(signals).size).toBe(20);
    gate.resolve();
    expect(await run).toHaveLength(40);
    expect(new Set(signals).size).toBe(40);
  });

  it("teardown aborts the signals of calls in flight, not those of calls already settled", async () => {
    const settled: AbortSignal[] = [];
    const inFlight: AbortSignal[] = [];
    const controller = new AbortController();
    const reason = new Error("deadline");
    const p = pipe(range(10)).map(
      async (x, { signal }) => {
        if (x < 3) {
          settled.push(signal);
          return x;
        }
        inFlight.push(signal);
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        return x;
      },
      { workers: 4 },
    );
    const run = p.toArray({ signal: controller.signal });
    await until(() => settled.length === 3 && inFlight.length === 4);
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(inFlight.map((s) => s.aborted)).toEqual([true, true, true, true]);
    expect(inFlight.every((s) => s.reason === reason)).toBe(true);
    expect(settled.map((s) => s.aborted)).toEqual([false, false, false]);
  });
});
