/**
 * Draining a run (docs/behaviour.md §15): when the `drain` signal aborts, the sources are no
 * longer pulled, every element already taken goes on through every stage, and the run ends
 * normally with what was delivered; after `drainTimeout` what is left is torn down as by
 * `signal` (settled `released`) and the run rejects with a `DrainTimeoutError`.
 */
import { describe, expect, it } from "vitest";
import { DrainTimeoutError, OptionsError, pipe, source, type SourceOutcome } from "@sluice/dsl";
import { deferred, sleep, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/** An endless source that counts its pulls and records whether it was closed. */
class CountingSource {
  pulls = 0;
  closed = false;
  readonly settled = new Map<number, SourceOutcome["status"]>();
  readonly settle = (x: number, outcome: SourceOutcome): void => {
    this.settled.set(x, outcome.status);
  };
  readonly items = async function* (this: CountingSource): AsyncGenerator<number> {
    try {
      for (let i = 0; ; i++) {
        this.pulls++;
        yield i;
      }
    } finally {
      this.closed = true;
    }
  }.bind(this);
}

describe("drain", () => {
  it("stops pulling, delivers every element taken, settles them done and resolves", async () => {
    const src = new CountingSource();
    const drain = new AbortController();
    const started = new Set<number>();
    const run = pipe(source(src.items, { settle: src.settle }))
      .map(
        async (x) => {
          started.add(x);
          await sleep(5);
          return x;
        },
        { workers: 4, maxsize: 4 },
      )
      .map((x) => x * 2, { workers: 2 })
      .toArray({ drain: drain.signal });
    await until(() => started.size >= 10);
    drain.abort();
    const pullsAtDrain = src.pulls;
    const out = await run;
    expect(src.closed).toBe(true);
    // At most the one next() already asked for comes after the drain.
    expect(src.pulls).toBeLessThanOrEqual(pullsAtDrain + 1);
    // Every element taken was delivered, in full, once: 0 .. n-1 with nothing missing.
    const taken = src.settled.size;
    expect(out.map((x) => x / 2).sort((a, b) => a - b)).toEqual(Array.from({ length: taken }, (_, i) => i));
    expect([...src.settled.values()].every((status) => status === "done")).toBe(true);
    expect(taken).toBeGreaterThanOrEqual(10);
  });

  it("works with for await and run(): the loop ends after the last element taken", async () => {
    const src = new CountingSource();
    const drain = new AbortController();
    const seen: number[] = [];
    for await (const x of pipe(source(src.items, { settle: src.settle }))
      .map(async (x) => x, { workers: 3 })
      .iterate({ drain: drain.signal })) {
      seen.push(x);
      if (seen.length === 5) drain.abort();
    }
    expect(src.closed).toBe(true);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(seen.length).toBe(src.settled.size);
    expect([...src.settled.values()].every((status) => status === "done")).toBe(true);

    const each: number[] = [];
    const drained = new AbortController();
    await pipe(src.items)
      .each((x) => {
        each.push(x);
        if (x === 3) drained.abort();
      })
      .run({ drain: drained.signal });
    expect(each.slice(0, 4)).toEqual([0, 1, 2, 3]);
  });

  it("pulls nothing when drained before the run starts, and the run resolves empty", async () => {
    const src = new CountingSource();
    const out = await pipe(source(src.items, { settle: src.settle })).map((x) => x).toArray({ drain: AbortSignal.abort() });
    expect(out).toEqual([]);
    expect(src.pulls).toBe(0);
    expect(src.settled.size).toBe(0);
  });

  it("stops an endless synchronous source read in one busy stretch, between two of its yields to the event loop", async () => {
    let pulled = 0;
    let closed = false;
    const endless = function* (): Generator<number> {
      try {
        for (;;) yield pulled++;
      } finally {
        closed = true;
      }
    };
    const drain = new AbortController();
    setTimeout(() => drain.abort(), 5);
    let seen = 0;
    await pipe(endless)
      .map((x) => x + 1)
      .each(() => {
        seen++;
      })
      .run({ drain: drain.signal });
    expect(closed).toBe(true);
    expect(seen).toBe(pulled);
    expect(seen).toBeGreaterThan(0);
  });

  it("takes the value of a next() pending when the drain came", async () => {
    const gate = deferred();
    let closed = false;
    const items = async function* (): AsyncGenerator<number> {
      try {
        yield 1;
        await gate.promise;
        yield 2;
        yield 3;
      } finally {
        closed = true;
      }
    };
    const drain = new AbortController();
    const run = pipe(items).map((x) => x * 10).toArray({ drain: drain.signal });
    await sleep(5);
    drain.abort();
    await sleep(5);
    gate.resolve();
    expect(await run).toEqual([10, 20]);
    expect(closed).toBe(true);
  });

  it("rejects with DrainTimeoutError after drainTimeout and releases what was left", async () => {
    const src = new CountingSource();
    const drain = new AbortController();
    const stuck = deferred<number>();
    let calls = 0;
    const run = pipe(source(src.items, { settle: src.settle }))
      .map(
        (x, { signal }) => {
          calls++;
          // The third element never finishes on its own; teardown aborts it.
          if (x !== 2) return x;
          signal.addEventListener("abort", () => stuck.reject(signal.reason));
          return stuck.promise;
        },
        { workers: 2, maxsize: 0 },
      )
      .toArray({ drain: drain.signal, drainTimeout: 30 });
    await until(() => calls >= 3);
    drain.abort();
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DrainTimeoutError);
    expect((error as DrainTimeoutError).timeout).toBe(30);
    expect((error as DrainTimeoutError).name).toBe("DrainTimeoutError");
    expect(src.settled.get(2)).toBe("released");
    expect(src.settled.get(0)).toBe("done");
    expect(src.settled.get(1)).toBe("done");
    expect(unhandled).toEqual([]);
  });

  it("ends without DrainTimeoutError when the drain finishes in time, and leaves no timer behind", async () => {
    const drain = new AbortController();
    const run = pipe([1, 2, 3])
      .map(async (x) => {
        await sleep(1);
        return x;
      })
      .toArray({ drain: drain.signal, drainTimeout: 5_000 });
    drain.abort();
    const out = await run;
    expect(out.length).toBeLessThanOrEqual(3);
  });

  it("a drain after the run settled does nothing; signal still aborts a draining run", async () => {
    const drain = new AbortController();
    expect(await pipe([1, 2]).toArray({ drain: drain.signal })).toEqual([1, 2]);
    drain.abort();

    const abort = new AbortController();
    const drain2 = new AbortController();
    const src = new CountingSource();
    const run = pipe(source(src.items, { settle: src.settle }))
      .map((_, { signal }) => new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))), { workers: 2 })
      .toArray({ signal: abort.signal, drain: drain2.signal });
    await until(() => src.pulls >= 2);
    drain2.abort();
    abort.abort(new Error("stop now"));
    await expect(run).rejects.toThrow("stop now");
    expect([...src.settled.values()].every((status) => status === "released")).toBe(true);
    expect(unhandled).toEqual([]);
  });

  it("checks drain and drainTimeout like the other run options", async () => {
    await expect(pipe([1]).toArray({ drain: "soon" as never })).rejects.toThrow(
      new OptionsError('toArray(): options.drain must be an AbortSignal (received "soon")'),
    );
    await expect(pipe([1]).run({ drainTimeout: -1 })).rejects.toBeInstanceOf(OptionsError);
    expect(() => pipe([1]).iterate({ drainTimeout: 0 })).toThrow(/^iterate\(\): options\.drainTimeout must be a number of milliseconds > 0/);
  });
});
