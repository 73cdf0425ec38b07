/**
 * Acknowledged sources (docs/behaviour.md §13): `source(items, { settle })` calls `settle`
 * once per element taken, with `done`, `failed` or `released`, after everything derived from
 * the element has finished, and before the run settles.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OptionsError, concat, pipe, source, type SourceOutcome } from "@sluice/dsl";
import { deferred, range, sleep, tick, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/** A call that ends only when its signal aborts (a teardown or a timeout). */
function untilAborted(signal: AbortSignal): Promise<number> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}

/** Records `settle` calls in order, as `element:status`. */
class Settlements<T = number> {
  readonly calls: { element: T; outcome: SourceOutcome }[] = [];
  readonly settle = (element: T, outcome: SourceOutcome): void => {
    this.calls.push({ element, outcome });
  };

  statuses(): Map<T, string> {
    return new Map(this.calls.map((c) => [c.element, c.outcome.status]));
  }

  of(element: T): SourceOutcome | undefined {
    return this.calls.find((c) => c.element === element)?.outcome;
  }
}

describe("source(items, { settle })", () => {
  it("settles every element done when it was delivered, filtered out, expanded to nothing or finished by each", async () => {
    const s = new Settlements();
    const out = await pipe(source([1, 2, 3, 4, 5, 6], { settle: s.settle }))
      .filter((x) => x !== 2)
      .flatMap((x) => (x === 3 ? [] : [x, x * 10]))
      .map(async (x) => x + 1, { workers: 3 });
    expect(out.sort((a, b) => a - b)).toEqual([2, 5, 6, 7, 11, 41, 51, 61]);
    expect(s.calls).toHaveLength(6);
    expect([...s.statuses().values()].every((status) => status === "done")).toBe(true);

    const e = new Settlements();
    await pipe(source(() => range(5), { settle: e.settle })).each(async () => sleep(1), { workers: 2 }).run();
    expect([...e.statuses().entries()].sort()).toEqual([0, 1, 2, 3, 4].map((x) => [x, "done"]));
  });

  it("settles an element only after its last descendant was delivered", async () => {
    const s = new Settlements();
    const gates = [deferred(), deferred()];
    const run = pipe(source([7], { settle: s.settle }))
      .flatMap((x) => [x, x])
      .map((x, ctx) => gates[ctx.index[1]!]!.promise.then(() => x), { workers: 2 })
      .toArray();
    gates[0]!.resolve();
    await sleep(5);
    expect(s.calls).toEqual([]);
    gates[1]!.resolve();
    expect(await run).toEqual([7, 7]);
    expect(s.calls).toEqual([{ element: 7, outcome: { status: "done" } }]);
  });

  it("with iterate(), an element is done when the next next() asks past it, not when it is buffered or handed out", async () => {
    const s = new Settlements();
    const iterator = pipe(source([1, 2, 3], { settle: s.settle })).map((x) => x).iterate();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    await tick();
    expect(s.calls).toEqual([]);
    expect((await iterator.next()).value).toBe(2);
    await tick();
    expect(s.calls.map((c) => c.element)).toEqual([1]);
    expect((await iterator.next()).value).toBe(3);
    expect((await iterator.next()).done).toBe(true);
    expect(s.calls.map((c) => `${c.element}:${c.outcome.status}`)).toEqual(["1:done", "2:done", "3:done"]);
  });

  it("a broadcast element is done once every branch has finished with it", async () => {
    const s = new Settlements();
    const shared = pipe(source([1, 2], { settle: s.settle })).map((x) => x);
    const slow = deferred();
    const run = concat(
      shared.map((x) => x),
      shared.map((x) => slow.promise.then(() => -x)),
    ).toArray();
    await sleep(5);
    expect(s.calls).toEqual([]);
    slow.resolve();
    expect((await run).sort((a, b) => a - b)).toEqual([-2, -1, 1, 2]);
    expect([...s.statuses().entries()].sort()).toEqual([
      [1, "done"],
      [2, "done"],
    ]);
  });

  it("settles each element of a batch when the batch is finished, and ordered() keeps its elements", async () => {
    const s = new Settlements();
    const out = await pipe(source(() => range(5), { settle: s.settle }))
      .batch(2)
      .map(async (b) => b.length)
      .ordered();
    expect(out).toEqual([2, 2, 1]);
    expect([...s.statuses().values()]).toEqual(["done", "done", "done", "done", "done"]);
  });

  it("an element whose call fails the run settles failed with that error; the others are released", async () => {
    const s = new Settlements();
    const boom = new Error("boom");
    const gate = deferred();
    const run = pipe(source([1, 2, 3], { settle: s.settle }))
      .map((x, ctx) => (x === 2 ? gate.promise.then(() => Promise.reject(boom)) : untilAborted(ctx.signal)), { workers: 3 })
      .toArray();
    gate.resolve();
    await expect(run).rejects.toBe(boom);
    expect(s.of(2)).toEqual({ status: "failed", error: boom });
    expect(s.of(1)).toEqual({ status: "released", reason: boom });
    expect(s.of(3)).toEqual({ status: "released", reason: boom });
  });

  it("a failed element of a batch fails every element of that batch", async () => {
    const s = new Settlements();
    const boom = new Error("bad batch");
    await expect(
      pipe(source([1, 2, 3], { settle: s.settle }))
        .batch(2)
        .map((b) => {
          if (b.includes(3)) throw boom;
          return b;
        }),
    ).rejects.toBe(boom);
    expect(s.of(3)).toEqual({ status: "failed", error: boom });
    // [1, 2] reached the consumer before the failure.
    expect(s.of(1)).toEqual({ status: "done" });
  });

  it("an element given up under onError skip, collect or a handler settles failed while the run goes on", async () => {
    const boom = new Error("bad element");
    const f = (x: number) => {
      if (x === 2) throw boom;
      return x;
    };
    const skipped = new Settlements();
    expect((await pipe(source([1, 2, 3], { settle: skipped.settle })).map(f, { onError: "skip" })).sort()).toEqual([1, 3]);
    expect(skipped.of(2)).toEqual({ status: "failed", error: boom });
    expect([skipped.of(1), skipped.of(3)]).toEqual([{ status: "done" }, { status: "done" }]);

    const collected = new Settlements();
    const result = await pipe(source([1, 2, 3], { settle: collected.settle })).map(f, { onError: "collect" }).toResult();
    expect(result.errors.map((e) => e.error)).toEqual([boom]);
    expect(collected.of(2)).toEqual({ status: "failed", error: boom });

    const handled = new Settlements();
    const seen: unknown[] = [];
    await pipe(source([1, 2, 3], { settle: handled.settle }))
      .flatMap((x) => [x, x])
      .map(f, { onError: async (failure) => void seen.push(failure.error) })
      .run();
    expect(seen).toEqual([boom, boom]);
    expect(handled.of(2)).toEqual({ status: "failed", error: boom });
    expect(handled.calls).toHaveLength(3);
  });

  it("an element that succeeds on a retry settles done, once", async () => {
    const s = new Settlements();
    let calls = 0;
    const out = await pipe(source([1], { settle: s.settle })).map(
      (x) => {
        if (calls++ === 0) throw new Error("flaky");
        return x;
      },
      { retry: { retries: 2, minDelay: 1 } },
    );
    expect(out).toEqual([1]);
    expect(s.calls).toEqual([{ element: 1, outcome: { status: "done" } }]);
  });

  it("an element whose retry decision or error handler fails the run settles failed with that error", async () => {
    const decision = new Error("shouldRetry failed");
    const bad = () => {
      throw new Error("f");
    };
    const s = new Settlements();
    const refusing = () => {
      throw decision;
    };
    await expect(pipe(source([1], { settle: s.settle })).map(bad, { retry: { retries: 1, shouldRetry: refusing } })).rejects.toBe(decision);
    expect(s.of(1)).toEqual({ status: "failed", error: decision });

    const handlerError = new Error("handler failed");
    const h = new Settlements();
    const handler = () => Promise.reject(handlerError);
    await expect(pipe(source([1], { settle: h.settle })).map(bad, { onError: handler })).rejects.toBe(handlerError);
    // The element settled failed when it was given up on, before its handler ran.
    expect(h.of(1)).toMatchObject({ status: "failed" });
    expect(h.calls).toHaveLength(1);
  });

  it("an element skipped by onTimeout: 'skip' settles failed with the TimeoutError", async () => {
    const s = new Settlements();
    const out = await pipe(source([1, 2], { settle: s.settle })).map((x, ctx) => (x === 1 ? untilAborted(ctx.signal) : x), {
      timeout: 5,
      onTimeout: "skip",
      workers: 2,
    });
    expect(out).toEqual([2]);
    expect(s.of(1)?.status).toBe("failed");
    expect((s.of(1) as { error: Error }).error.name).toBe("TimeoutError");
    expect(s.of(2)?.status).toBe("done");
  });

  it("break releases what was taken and not delivered; toArray() delivers each element as it arrives", async () => {
    const s = new Settlements();
    for await (const x of pipe(source(() => range(100), { settle: s.settle })).map((x) => x, { maxsize: 4 })) {
      if (x === 2) break;
    }
    const statuses = s.statuses();
    // 2 was in the loop's hand when it broke: released, so a queue hands it out again.
    expect([0, 1, 2].map((x) => statuses.get(x))).toEqual(["done", "done", "released"]);
    expect(statuses.size).toBeGreaterThan(3);
    expect(statuses.size).toBeLessThan(100);
    for (const [x, status] of statuses) if (x > 1) expect(status).toBe("released");
    const reason = (s.calls.find((c) => c.outcome.status === "released")!.outcome as { reason: unknown }).reason;
    expect((reason as DOMException).name).toBe("AbortError");

    const t = new Settlements();
    const boom = new Error("late");
    await expect(
      pipe(source([1, 2, 3], { settle: t.settle })).map(async (x) => {
        if (x === 3) {
          await sleep(2);
          throw boom;
        }
        return x;
      }, { workers: 3 }),
    ).rejects.toBe(boom);
    expect(t.of(1)).toEqual({ status: "done" });
    expect(t.of(3)).toEqual({ status: "failed", error: boom });
  });

  it("an element a pending next() hands out as teardown comes is released too, before the run settles", async () => {
    const s = new Settlements();
    let answer: ((result: IteratorResult<number>) => void) | null = null;
    let position = 0;
    // A queue consumer's shape: next() waits for an element; return() answers a waiting next().
    const feed: AsyncIterableIterator<number> = {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => (position < 2 ? Promise.resolve({ done: false, value: position++ }) : new Promise((resolve) => (answer = resolve))),
      return: async () => {
        answer?.({ done: false, value: 99 });
        return { done: true, value: undefined };
      },
    };
    const controller = new AbortController();
    const run = pipe(source(() => feed, { settle: s.settle })).map((x) => x).toArray({ signal: controller.signal });
    await until(() => answer !== null, "the third next()");
    controller.abort(new Error("stop"));
    await expect(run).rejects.toThrow("stop");
    expect([...s.statuses().entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, "done"],
      [1, "done"],
      [99, "released"],
    ]);
  });

  it("an aborted run releases every open element with the signal's reason before it settles", async () => {
    const s = new Settlements();
    const controller = new AbortController();
    const run = pipe(source([1, 2, 3], { settle: s.settle }))
      .map((_, ctx) => untilAborted(ctx.signal), { workers: 3 })
      .toArray({ signal: controller.signal });
    await sleep(2);
    const reason = new Error("stop");
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(s.calls.map((c) => c.outcome)).toEqual([1, 2, 3].map(() => ({ status: "released", reason })));
    expect(unhandled).toEqual([]);
  });

  it("awaits settle promises before the run settles, and a throwing settle fails the run", async () => {
    const finished: number[] = [];
    await pipe(source([1, 2], { settle: async (x) => {
      await sleep(5);
      finished.push(x);
    } })).run();
    expect(finished.sort()).toEqual([1, 2]);

    const bad = new Error("ack failed");
    await expect(pipe(source([1, 2], { settle: () => { throw bad; } })).map((x) => x)).rejects.toBe(bad);
    await expect(pipe(source([1], { settle: () => Promise.reject(bad) }))).rejects.toBe(bad);
  });

  it("settles the elements of every run of a re-runnable source, each run its own", async () => {
    const s = new Settlements();
    const p = pipe(source(() => range(3), { settle: s.settle }));
    await p;
    await p.run();
    expect(s.calls).toHaveLength(6);
  });

  it("checks its options", () => {
    expect(() => source([1], {} as never)).toThrow(new OptionsError("source(): options.settle must be a function (or give position and checkpoint) (received undefined)"));
    expect(() => source([1], { settle: () => {}, extra: 1 } as never)).toThrow(OptionsError);
    expect(() => source(42 as never, { settle: () => {} })).toThrow(TypeError);
  });
});

describe("for await over an acknowledged source: the element in the loop's hand", () => {
  it("is done once the loop asks for the next element, not while the body runs", async () => {
    const s = new Settlements();
    const seenInBody: string[][] = [];
    for await (const x of pipe(source([1, 2, 3], { settle: s.settle })).map((x) => x)) {
      await tick();
      seenInBody.push(s.calls.map((c) => `${c.element}:${c.outcome.status}`));
      expect(s.of(x)).toBeUndefined();
    }
    expect(seenInBody).toEqual([[], ["1:done"], ["1:done", "2:done"]]);
    // The loop completed normally: its last next() settled the last element done.
    expect(s.calls.map((c) => `${c.element}:${c.outcome.status}`)).toEqual(["1:done", "2:done", "3:done"]);
  });

  it("a body that throws releases the element in hand (never lost), and the loop sees its own error", async () => {
    const s = new Settlements();
    const boom = new Error("body failed");
    const loop = async () => {
      for await (const x of pipe(source([1, 2, 3], { settle: s.settle })).map((x) => x, { maxsize: 1 })) {
        if (x === 2) throw boom;
      }
    };
    await expect(loop()).rejects.toBe(boom);
    expect(s.of(1)).toEqual({ status: "done" });
    expect(s.of(2)?.status).toBe("released");
    expect(((s.of(2) as { reason: unknown }).reason as DOMException).name).toBe("AbortError");
    expect(s.calls.every((c) => c.element === 1 || c.outcome.status === "released")).toBe(true);
  });

  it("an element in hand when the run fails elsewhere is released with the run's error", async () => {
    const s = new Settlements();
    const boom = new Error("later element");
    const gate = deferred();
    const iterator = pipe(source([1, 2], { settle: s.settle }))
      .map((x) => (x === 2 ? gate.promise.then(() => Promise.reject(boom)) : x), { workers: 2 })
      .iterate();
    expect(await iterator.next()).toEqual({ done: false, value: 1 });
    gate.resolve();
    await until(() => s.calls.length === 2, "both settlements");
    expect(s.of(1)).toEqual({ status: "released", reason: boom });
    expect(s.of(2)).toEqual({ status: "failed", error: boom });
    await expect(iterator.next()).rejects.toBe(boom);
    expect(s.calls).toHaveLength(2);
  });

  it("next() calls made before earlier ones settled each ask past the element before, up to the end", async () => {
    const s = new Settlements();
    const gate = deferred();
    const iterator = pipe(source([1, 2], { settle: s.settle }))
      .map((x) => gate.promise.then(() => x))
      .iterate();
    const results = [iterator.next(), iterator.next(), iterator.next()];
    gate.resolve();
    expect(await Promise.all(results)).toEqual([
      { done: false, value: 1 },
      { done: false, value: 2 },
      { done: true, value: undefined },
    ]);
    expect(s.calls.map((c) => `${c.element}:${c.outcome.status}`)).toEqual(["1:done", "2:done"]);
  });

  it("costs a non-settling source nothing it would see: values and order as before", async () => {
    const out: number[] = [];
    for await (const x of pipe(range(50)).map((x) => x * 2)) out.push(x);
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  });

  it("property: whatever the loop does, each element taken settles once: done before the one in hand, that one released on an early exit", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 14 }),
        fc.constantFrom("break", "throw", "return"),
        fc.integer({ min: 1, max: 4 }),
        async (n, stopAt, how, maxsize) => {
          const s = new Settlements();
          const loop = async (): Promise<void> => {
            for await (const x of pipe(source(() => range(n), { settle: s.settle })).map((x) => x, { maxsize })) {
              if (x === stopAt) {
                if (how === "break") break;
                if (how === "throw") throw new Error("stop");
                return;
              }
            }
          };
          await loop().catch(() => undefined);
          const elements = s.calls.map((c) => c.element);
          expect(new Set(elements).size).toBe(elements.length);
          const statuses = s.statuses();
          for (let x = 0; x < n; x++) {
            if (x < stopAt) expect(statuses.get(x)).toBe("done");
            else if (x === stopAt) expect(statuses.get(x)).toBe("released");
            else expect(statuses.get(x) ?? "not taken").toMatch(/^(released|not taken)$/);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
