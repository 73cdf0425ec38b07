/**
 * Checkpoints (docs/behaviour.md §15): `source(items, { position, checkpoint })` saves the
 * watermark, the position of the latest element such that it and every element before it
 * have settled; at most once per `every` settlements or `interval` ms, once more as the run
 * ends, never two saves at once, and only forward.
 */
import { describe, expect, it } from "vitest";
import { ElementError, OptionsError, pipe, source, type SourceOutcome } from "@sluice/dsl";
import { deferred, range, sleep, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

/** Records the positions saved, and how many saves ran at once at most. */
class Saves {
  readonly positions: number[] = [];
  active = 0;
  mostAtOnce = 0;
  constructor(readonly wait = 0) {}
  readonly save = async ({ position }: { position: number }): Promise<void> => {
    this.active++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.active);
    this.positions.push(position);
    if (this.wait > 0) await sleep(this.wait);
    this.active--;
  };
  get last(): number | undefined {
    return this.positions.at(-1);
  }
}

const ascending = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

describe("source(items, { position, checkpoint })", () => {
  it("saves the watermark every so many settlements, forward only, and once at the end", async () => {
    const saves = new Saves();
    const out = await pipe(source(range(100), { position: (x) => x, checkpoint: { save: saves.save, every: 10 } }))
      .map(
        async (x) => {
          await sleep(x % 3);
          return x;
        },
        { workers: 8 },
      )
      .toArray();
    expect(out).toHaveLength(100);
    expect(saves.last).toBe(99);
    expect(ascending(saves.positions)).toBe(true);
    // At most one save per 10 settlements, plus the last.
    expect(saves.positions.length).toBeGreaterThanOrEqual(2);
    expect(saves.positions.length).toBeLessThanOrEqual(100 / 10 + 1);
  });

  it("never saves past an element that has not settled", async () => {
    const saves = new Saves();
    const gate = deferred();
    const run = pipe(source(range(20), { position: (x) => x, checkpoint: { save: saves.save, every: 1 } }))
      .map((x) => (x === 5 ? gate.promise.then(() => x) : x), { workers: 4 })
      .toArray();
    await until(() => saves.positions.length > 0);
    await sleep(10);
    expect(saves.positions.every((p) => p <= 4)).toBe(true);
    expect(saves.last).toBe(4);
    gate.resolve();
    await run;
    expect(saves.last).toBe(19);
    expect(ascending(saves.positions)).toBe(true);
  });

  it("saves by interval while the watermark moves, and not when it does not", async () => {
    const saves = new Saves();
    await pipe(source(range(30), { position: (x) => x * 10, checkpoint: { save: saves.save, interval: 5 } }))
      .map(async (x) => {
        await sleep(2);
        return x;
      })
      .run();
    expect(saves.last).toBe(290);
    expect(ascending(saves.positions)).toBe(true);
    expect(saves.positions.length).toBeGreaterThanOrEqual(2);
  });

  it("with neither every nor interval, a quick run saves once, at the end", async () => {
    const saves = new Saves();
    await pipe(source([1, 2, 3], { position: (x) => x, checkpoint: { save: saves.save } })).run();
    expect(saves.positions).toEqual([3]);
  });

  it("never runs two saves at once, and the run settles after the last", async () => {
    const saves = new Saves(3);
    await pipe(source(range(200), { position: (x) => x, checkpoint: { save: saves.save, every: 1 } }))
      .map(async (x) => x, { workers: 16 })
      .run();
    expect(saves.mostAtOnce).toBe(1);
    expect(saves.active).toBe(0);
    expect(saves.last).toBe(199);
    expect(ascending(saves.positions)).toBe(true);
  });

  it("counts elements failed under skip or collect, but not one that failed the run", async () => {
    const skipped = new Saves();
    await pipe(source(range(10), { position: (x) => x, checkpoint: { save: skipped.save } }))
      .map(
        (x) => {
          if (x % 3 === 0) throw new Error(`no ${x}`);
          return x;
        },
        { onError: "skip" },
      )
      .run();
    expect(skipped.last).toBe(9);

    const failed = new Saves();
    const settled = new Map<number, SourceOutcome["status"]>();
    const boom = new Error("boom");
    await expect(
      pipe(
        source(range(50), {
          settle: (x, outcome) => void settled.set(x, outcome.status),
          position: (x) => x,
          checkpoint: { save: failed.save, every: 1 },
        }),
      )
        .map((x) => {
          if (x === 7) throw boom;
          return x;
        })
        .run(),
    ).rejects.toBe(boom);
    expect(settled.get(7)).toBe("failed");
    // The last save, made as the failed run ended, stops before the element that failed it.
    expect(failed.last).toBe(6);
    expect(ascending(failed.positions)).toBe(true);
  });

  it("saves on a drain what every element taken reached", async () => {
    const saves = new Saves();
    const drain = new AbortController();
    let taken = 0;
    const endless = function* (): Generator<number> {
      for (let i = 0; ; i++) yield i;
    };
    await pipe(source(endless, { position: (x) => x, checkpoint: { save: saves.save, every: 100 } }))
      .map(
        async (x) => {
          taken = Math.max(taken, x + 1);
          if (x === 20) drain.abort();
          await sleep(1);
          return x;
        },
        { workers: 4 },
      )
      .run({ drain: drain.signal });
    expect(saves.last).toBe(taken - 1);
  });

  it("fails the run at an element whose position throws, with a clear error", async () => {
    const settled = new Map<number, SourceOutcome>();
    const cause = new TypeError("no offset");
    const error = await pipe(
      source(range(10), {
        settle: (x, outcome) => void settled.set(x, outcome),
        position: (x) => {
          if (x === 3) throw cause;
          return x;
        },
        checkpoint: { save: () => undefined },
      }),
    )
      .map((x) => x)
      .toArray()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ElementError);
    const failure = error as ElementError;
    expect(failure.cause).toBe(cause);
    expect(failure.index).toEqual([3]);
    expect(failure.value).toBe(3);
    expect(failure.message).toBe("source(position): element [3] failed: TypeError: no offset");
    expect(settled.get(3)?.status).toBe("failed");
    expect(settled.has(4)).toBe(false);
  });

  it("fails the run when save throws or rejects", async () => {
    const thrown = new Error("disk full");
    await expect(
      pipe(
        source([1, 2, 3], {
          position: (x) => x,
          checkpoint: {
            save: () => {
              throw thrown;
            },
          },
        }),
      ).toArray(),
    ).rejects.toBe(thrown);
    const rejected = new Error("no route");
    let calls = 0;
    await expect(
      pipe(
        source(range(100), {
          position: (x) => x,
          checkpoint: {
            save: async () => {
              calls++;
              throw rejected;
            },
            every: 5,
          },
        }),
      )
        .map(async (x) => x)
        .run(),
    ).rejects.toBe(rejected);
    // Nothing is saved after a save failed.
    expect(calls).toBe(1);
    expect(unhandled).toEqual([]);
  });

  it("checks its options, naming the one at fault", () => {
    const save = (): void => undefined;
    expect(() => source([1], { checkpoint: { save } } as never)).toThrow(
      new OptionsError("source(): options.position must be a function (a checkpoint saves elements' positions) (received undefined)"),
    );
    expect(() => source([1], { position: (x: number) => x } as never)).toThrow(/^source\(\): options\.checkpoint must be an object/);
    expect(() => source([1], { position: (x) => x, checkpoint: { save, every: 0 } })).toThrow(
      new OptionsError("source(): options.checkpoint.every must be an integer >= 1 (received 0)"),
    );
    expect(() => source([1], { position: (x) => x, checkpoint: { save, interval: -5 } })).toThrow(/options\.checkpoint\.interval must be a number of milliseconds > 0/);
    expect(() => source([1], { position: (x) => x, checkpoint: { save: 1 as never } })).toThrow(
      new OptionsError("source(): options.checkpoint.save must be a function (received 1)"),
    );
    expect(() => source([1], { position: (x) => x, checkpoint: { save, each: 3 } as never })).toThrow(
      /^source\(\): options\.checkpoint\.each is not an option \(options are: save, every, interval\)/,
    );
    expect(() => source([1], { position: 3 as never, checkpoint: { save } })).toThrow(new OptionsError("source(): options.position must be a function (received 3)"));
  });
});
