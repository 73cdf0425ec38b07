/**
 * Watching a run (docs/behaviour.md §12): `onProgress` and `progressInterval` on every way of
 * consuming, what a `RunStats` snapshot holds, when it is reported and when not, and how a
 * throwing `onProgress` fails the run. The counters' invariants over random chains are
 * properties in reliability/stats-properties.test.ts.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ElementErrors, OptionsError, TimeoutError, concat, pipe, type RunStats } from "@sluice/dsl";
import { deferred, range, sleep } from "./helpers/time.js";

/** Records every snapshot, and whether one came after the consumer learned the outcome. */
class Recorder {
  readonly seen: RunStats[] = [];
  settled = false;
  lateCalls = 0;
  readonly onProgress = (stats: RunStats): void => {
    if (this.settled) this.lateCalls++;
    this.seen.push(stats);
  };

  get last(): RunStats {
    return this.seen.at(-1)!;
  }

  /** Marks the consumer's outcome known, then gives late calls a chance to show up. */
  async settle(): Promise<void> {
    this.settled = true;
    await sleep(15);
  }
}

const slowDouble = async (x: number): Promise<number> => {
  await sleep(2);
  return x * 2;
};

describe("onProgress on every way of consuming", () => {
  const pipeline = pipe([1, 2, 3, 4, 5, 6]).map(slowDouble, { workers: 2, name: "double" }).filter((x) => x > 4);

  it.each([
    ["toArray", (options: object) => pipeline.toArray(options)],
    ["run", (options: object) => pipeline.run(options)],
    [
      "iterate",
      async (options: object) => {
        const out: number[] = [];
        for await (const x of pipeline.iterate(options)) out.push(x);
        return out;
      },
    ],
    [
      "toReadableStream",
      async (options: object) => {
        const out: number[] = [];
        for await (const x of pipeline.toReadableStream(options) as unknown as AsyncIterable<number>) out.push(x);
        return out;
      },
    ],
  ])("%s reports a final snapshot, last, and none after the consumer has the outcome", async (_, consume) => {
    const recorder = new Recorder();
    await consume({ onProgress: recorder.onProgress, progressInterval: 1 });
    await recorder.settle();
    expect(recorder.lateCalls).toBe(0);
    const last = recorder.last;
    expect(last.state).toBe("done");
    expect(recorder.seen.filter((s) => s.state === "done")).toEqual([last]);
    expect(last.source).toEqual({ pulled: 6, total: 6 });
    expect(last.delivered).toBe(4);
    expect(last.stages.map((s) => [s.name, s.kind, s.taken, s.done, s.emitted, s.dropped])).toEqual([
      ["double", "map", 6, 6, 6, 0],
      ["filter#2", "filter", 6, 6, 4, 2],
    ]);
  });

  it("reports at most about once per interval while the run goes", async () => {
    const recorder = new Recorder();
    const started = performance.now();
    await pipe(range(20))
      .map(async (x) => (await sleep(5), x), { workers: 2 })
      .run({ onProgress: recorder.onProgress, progressInterval: 20 });
    const elapsed = performance.now() - started;
    await recorder.settle();
    // One per interval at most, plus the final one, plus one for the event loop's millisecond clock.
    expect(recorder.seen.length).toBeLessThanOrEqual(Math.floor(elapsed / 20) + 2);
    expect(recorder.seen.length).toBeGreaterThanOrEqual(1);
  });

  it("a run that never starts (already-aborted signal) reports nothing", async () => {
    const recorder = new Recorder();
    const reason = new Error("too late");
    await expect(pipe([1]).toArray({ signal: AbortSignal.abort(reason), onProgress: recorder.onProgress })).rejects.toBe(reason);
    await recorder.settle();
    expect(recorder.seen).toEqual([]);
  });

  it("snapshots are frozen and stay as they were", async () => {
    const gate = deferred<void>();
    const seen: RunStats[] = [];
    const run = pipe([1, 2, 3])
      .map(async (x) => (await gate.promise, x))
      .toArray({ onProgress: (s) => seen.push(s), progressInterval: 1 });
    await sleep(10);
    const early = seen[0]!;
    const copy = JSON.parse(JSON.stringify(early)) as unknown;
    gate.resolve();
    await run;
    expect(early.state).toBe("running");
    expect(early.stages[0]!.inFlight).toBe(1);
    expect(early.stages[0]!.waiting).toBe(2);
    expect(JSON.parse(JSON.stringify(early))).toEqual(copy);
    expect(Object.isFrozen(early) && Object.isFrozen(early.stages) && Object.isFrozen(early.stages[0]) && Object.isFrozen(early.source)).toBe(true);
  });
});

describe("what a snapshot holds", () => {
  it("source.total for sized sources, and none for iterators or behind a concat with one", async () => {
    const totals = async (source: unknown): Promise<number | undefined> => {
      let last: RunStats | undefined;
      await pipe(source as number[]).run({ onProgress: (s) => (last = s) });
      return last!.source.total;
    };
    expect(await totals([1, 2, 3])).toBe(3);
    expect(await totals(new Set([1, 2]))).toBe(2);
    expect(await totals(new Map([[1, 1]]))).toBe(1);
    expect(await totals(new Uint8Array(4))).toBe(4);
    expect(await totals(() => [1, 2])).toBe(2);
    expect(await totals(Promise.resolve([1, 2, 3, 4, 5]))).toBe(5);
    expect(await totals(() => range(3))).toBeUndefined();

    let last: RunStats | undefined;
    await concat(pipe([1, 2]), pipe([3])).run({ onProgress: (s) => (last = s) });
    expect(last!.source).toEqual({ pulled: 3, total: 3 });
    await concat(pipe([1, 2]), pipe(() => range(2))).run({ onProgress: (s) => (last = s) });
    expect(last!.source).toEqual({ pulled: 4 });
  });

  it("stages in chain order, concat inputs' stages first, ordered() left out, batch() included", async () => {
    let last: RunStats | undefined;
    const a = pipe([1, 2]).map((x) => x, { name: "a" });
    const b = pipe([3]).filter(() => true, { name: "b" });
    await concat(a, b)
      .ordered()
      .batch(2)
      .each(() => undefined, { name: "store" })
      .run({ onProgress: (s) => (last = s) });
    expect(last!.stages.map((s) => `${s.kind}:${s.name}`)).toEqual(["map:a", "filter:b", "batch:batch", "each:store"]);
    const [, , batch, store] = last!.stages;
    expect(batch).toMatchObject({ taken: 3, done: 3, emitted: 2, inFlight: 0 });
    // An each stage emits nothing, but its done count shows how far the job has got.
    expect(store).toMatchObject({ taken: 2, done: 2, emitted: 0 });
  });

  it("a broadcast pipeline's stages appear once", async () => {
    let last: RunStats | undefined;
    const shared = pipe([1, 2, 3]).map((x) => x, { name: "shared" });
    await concat(shared.map((x) => x, { name: "left" }), shared.map((x) => x, { name: "right" })).run({ onProgress: (s) => (last = s) });
    expect(last!.stages.map((s) => s.name)).toEqual(["shared", "left", "right"]);
    expect(last!.source.pulled).toBe(3);
    expect(last!.delivered).toBe(6);
  });

  it("flatMap counts items emitted against elements done", async () => {
    let last: RunStats | undefined;
    await pipe([1, 2, 3])
      .flatMap(async function* (x) {
        for (let i = 0; i < x; i++) yield i;
      })
      .run({ onProgress: (s) => (last = s) });
    expect(last!.stages[0]).toMatchObject({ taken: 3, done: 3, emitted: 6 });
  });

  it('timeouts: onTimeout "skip" counts skipped and timedOut; "error" counts failed and timedOut', async () => {
    const slowOn2 = async (x: number, { signal }: { signal: AbortSignal }): Promise<number> => {
      if (x === 2) await new Promise((resolve) => signal.addEventListener("abort", resolve));
      return x;
    };
    let last: RunStats | undefined;
    await pipe([1, 2, 3]).map(slowOn2, { timeout: 5, onTimeout: "skip" }).run({ onProgress: (s) => (last = s) });
    expect(last!.stages[0]).toMatchObject({ taken: 3, done: 2, skipped: 1, timedOut: 1, failed: 0 });
    expect(last!.state).toBe("done");

    await expect(pipe([1, 2, 3]).map(slowOn2, { timeout: 5 }).run({ onProgress: (s) => (last = s) })).rejects.toBeInstanceOf(TimeoutError);
    expect(last!.stages[0]).toMatchObject({ taken: 2, done: 1, failed: 1, timedOut: 1 });
    expect(last!.state).toBe("failed");
  });

  it("a failing element is failed, the calls in flight beside it are cancelled", async () => {
    const boom = new Error("boom");
    let last: RunStats | undefined;
    const run = pipe([1, 2, 3, 4]).map(
      async (x, { signal }) => {
        if (x === 1) {
          await sleep(5);
          throw boom;
        }
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        return x;
      },
      { workers: 3 },
    );
    await expect(run.run({ onProgress: (s) => (last = s) })).rejects.toBe(boom);
    expect(last!.state).toBe("failed");
    expect(last!.stages[0]).toMatchObject({ taken: 3, failed: 1, cancelled: 2, inFlight: 0, waiting: 0, done: 0 });
  });

  it('state "aborted" for a caller\'s abort and for a consumer that leaves early', async () => {
    let last: RunStats | undefined;
    const controller = new AbortController();
    const slow = pipe(() => range(1000)).map(async (x) => (await sleep(1), x), { workers: 2 });
    setTimeout(() => controller.abort(new Error("stop")), 10);
    await expect(slow.run({ signal: controller.signal, onProgress: (s) => (last = s) })).rejects.toThrow("stop");
    expect(last!.state).toBe("aborted");
    expect(last!.stages[0]!.inFlight).toBe(0);

    for await (const x of slow.iterate({ onProgress: (s) => (last = s) })) if (x >= 3) break;
    expect(last!.state).toBe("aborted");
    expect(last!.delivered).toBeGreaterThanOrEqual(4);
  });
});

describe("element outcomes in the counters (onError, retry)", () => {
  /** Fails the first `failures` attempts at the element 2, succeeds otherwise. */
  const flaky =
    (failures: number) =>
    (x: number, ctx: { attempt: number }): number => {
      if (x === 2 && ctx.attempt <= failures) throw new Error(`attempt ${ctx.attempt}`);
      return x;
    };
  const retry = (retries: number) => ({ retries, minDelay: 1, jitter: "none" as const });

  it("a retried element is taken once, each attempt after the first is retried, and it ends done", async () => {
    let last: RunStats | undefined;
    await pipe([1, 2, 3]).map(flaky(2), { retry: retry(2) }).run({ onProgress: (s) => (last = s) });
    expect(last!.stages[0]).toMatchObject({ taken: 3, retried: 2, done: 3, skipped: 0, failed: 0, inFlight: 0 });
  });

  it('retries used up: "fail" counts failed, "skip" and "collect" count skipped and the run is done', async () => {
    let last: RunStats | undefined;
    await expect(pipe([1, 2, 3]).map(flaky(9), { retry: retry(1) }).run({ onProgress: (s) => (last = s) })).rejects.toThrow("attempt 2");
    expect(last!.state).toBe("failed");
    expect(last!.stages[0]).toMatchObject({ retried: 1, failed: 1, skipped: 0 });

    await pipe([1, 2, 3]).map(flaky(9), { retry: retry(1), onError: "skip" }).run({ onProgress: (s) => (last = s) });
    expect(last!.state).toBe("done");
    expect(last!.stages[0]).toMatchObject({ taken: 3, retried: 1, done: 2, skipped: 1, failed: 0 });

    await expect(pipe([1, 2, 3]).map(flaky(9), { onError: "collect" }).toArray({ onProgress: (s) => (last = s) })).rejects.toBeInstanceOf(ElementErrors);
    expect(last!.state).toBe("done");
    expect(last!.stages[0]).toMatchObject({ taken: 3, retried: 0, done: 2, skipped: 1, failed: 0 });
  });

  it("an element waiting for its next attempt when the run is torn down is cancelled", async () => {
    let last: RunStats | undefined;
    const controller = new AbortController();
    const run = pipe([2]).map(flaky(9), { retry: { retries: 5, minDelay: 10_000 } }).run({ signal: controller.signal, onProgress: (s) => (last = s), progressInterval: 1 });
    await sleep(10);
    expect(last!.stages[0]).toMatchObject({ taken: 1, inFlight: 1, retried: 0 });
    controller.abort(new Error("stop"));
    await expect(run).rejects.toThrow("stop");
    expect(last!.state).toBe("aborted");
    expect(last!.stages[0]).toMatchObject({ taken: 1, inFlight: 0, cancelled: 1 });
  });
});

describe("a throwing onProgress", () => {
  it("fails the run with its error, while it goes, and is not called again", async () => {
    const oops = new Error("display broke");
    let calls = 0;
    const onProgress = (): void => {
      calls++;
      throw oops;
    };
    await expect(pipe(range(100)).map(async (x) => (await sleep(1), x)).toArray({ onProgress, progressInterval: 5 })).rejects.toBe(oops);
    expect(calls).toBe(1);
  });

  it("on the final call, fails a run that had succeeded: await, run() and for await all see it", async () => {
    const oops = new Error("final");
    const onProgress = (stats: RunStats): void => {
      if (stats.state === "done") throw oops;
    };
    const pipeline = pipe([1, 2, 3]).map((x) => x);
    await expect(pipeline.toArray({ onProgress })).rejects.toBe(oops);
    await expect(pipeline.run({ onProgress })).rejects.toBe(oops);
    await expect(
      (async () => {
        for await (const _ of pipeline.iterate({ onProgress, progressInterval: 1 })) await sleep(1);
      })(),
    ).rejects.toBe(oops);
  });

  it("on the final call of a failed run, is dropped: the run's own error wins", async () => {
    const boom = new Error("boom");
    const onProgress = (): void => {
      throw new Error("display broke");
    };
    await expect(
      pipe([1])
        .map(() => {
          throw boom;
        })
        .run({ onProgress }),
    ).rejects.toBe(boom);
  });
});

describe("the options are checked", () => {
  it.each([
    [{ onProgress: "yes" }, /^toArray\(\): options\.onProgress must be a function/],
    [{ onProgress: () => undefined, progressInterval: 0 }, /^toArray\(\): options\.progressInterval must be a number of milliseconds > 0/],
    [{ progressInterval: "5" }, /^toArray\(\): options\.progressInterval must be a number of milliseconds > 0/],
    [{ onProgres: () => undefined }, /^toArray\(\): .*onProgres/],
  ])("%o", async (options, message) => {
    // toArray() reports a bad option as a rejection, like every other failure of the run.
    await expect(pipe([1]).toArray(options as never)).rejects.toThrow(message);
  });

  it("for iterate, run and toReadableStream too", async () => {
    expect(() => pipe([1]).iterate({ progressInterval: -1 } as never)).toThrow(OptionsError);
    expect(() => pipe([1]).toReadableStream({ onProgress: 1 } as never)).toThrow(OptionsError);
    await expect(pipe([1]).run({ onProgress: 1 } as never)).rejects.toBeInstanceOf(OptionsError);
  });
});

describe("the progress timer", () => {
  it("does not keep a process alive, even while the run waits forever", () => {
    const dsl = fileURLToPath(new URL("../packages/dsl/dist/index.js", import.meta.url));
    const script = `
      import { pipe } from ${JSON.stringify(dsl)};
      let calls = 0;
      pipe(async function* () { yield 1; await new Promise(() => {}); })
        .run({ onProgress: () => { calls++; }, progressInterval: 5 });
      setTimeout(() => console.log("calls before exit:", calls > 0), 50);
    `;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("calls before exit: true");
  });
});
