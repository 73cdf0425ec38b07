/**
 * Property tests of checkpoints (docs/behaviour.md §15): over random chains of map, filter,
 * flatMap (fan-out) and batch with random delays and element failures (skipped, or failing
 * the run), the saved watermark never passes an element that has not settled, positions
 * only move forward, saves never overlap, and the last save stands on the last element when
 * the run completes.
 *
 * "Not settled" is observed from user code: every stage function and the consumer's loop
 * record, for each source element an element derives from, a sequence number when they see
 * it (on entry and after their delay). A save at sequence `s` of position `p` is wrong if any
 * element at or before `p` is seen again after `s`.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { source, type Pipeline } from "@sluice/dsl";
import { UnhandledRejections, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

/** What flows: the source elements it derives from (several after a batch), and a value. */
interface El {
  readonly srcs: readonly number[];
  readonly v: number;
}

type Delay = "sync" | "micro" | "timer";

interface Step {
  readonly kind: "map" | "filter" | "flatMap" | "batch";
  readonly workers: number;
  readonly delay: Delay;
  /** batch: its size. */
  readonly size: number;
}

interface Shape {
  readonly count: number;
  readonly steps: readonly Step[];
  /** The first map fails every element whose value is a multiple of this (0: none). */
  readonly failEvery: number;
  readonly onError: "skip" | "fail";
  readonly every: number | undefined;
  readonly interval: number | undefined;
  /** How long each save takes. */
  readonly saveDelay: Delay;
  /** The consumer's loop body waits this way before asking for the next element. */
  readonly consumerDelay: Delay;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Step["kind"]>("map", "filter", "flatMap", "batch"),
  workers: fc.integer({ min: 1, max: 4 }),
  delay: fc.constantFrom<Delay>("sync", "micro", "timer"),
  size: fc.integer({ min: 1, max: 4 }),
});

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  count: fc.integer({ min: 0, max: 40 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
  failEvery: fc.constantFrom(0, 0, 4, 7),
  onError: fc.constantFrom<Shape["onError"]>("skip", "skip", "fail"),
  every: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  interval: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  saveDelay: fc.constantFrom<Delay>("sync", "micro", "timer"),
  consumerDelay: fc.constantFrom<Delay>("sync", "micro", "timer"),
});

function wait(delay: Delay): void | Promise<void> {
  if (delay === "sync") return undefined;
  if (delay === "micro") return Promise.resolve();
  return sleep(Math.floor(Math.random() * 3));
}

/** Runs `then` after `delay`, synchronously for "sync". */
function after<T>(delay: Delay, then: () => T): T | Promise<T> {
  const waiting = wait(delay);
  return waiting === undefined ? then() : waiting.then(then);
}

class Observer {
  seq = 0;
  /** The last sequence number at which each source element (or a descendant) was seen. */
  readonly lastSeen = new Map<number, number>();
  see(el: El): void {
    const seq = this.seq++;
    for (const src of el.srcs) this.lastSeen.set(src, seq);
  }
}

function build(shape: Shape, observer: Observer, save: (checkpoint: { position: number }) => void | Promise<void>): Pipeline<El> {
  let p: Pipeline<El> = source<El, number>(
    function* () {
      for (let i = 0; i < shape.count; i++) yield { srcs: [i], v: i };
    },
    { position: (el) => el.srcs[0]! * 10, checkpoint: { save, every: shape.every, interval: shape.interval } },
  );
  let first = true;
  for (const step of shape.steps) {
    const options = { workers: step.workers, maxsize: 2 };
    const seen = <T>(el: El, then: () => T): T | Promise<T> => {
      observer.see(el);
      return after(step.delay, () => {
        observer.see(el);
        return then();
      });
    };
    switch (step.kind) {
      case "map": {
        const failing = first && shape.failEvery > 0;
        first = false;
        p = p.map(
          (el) =>
            seen(el, () => {
              if (failing && el.v % shape.failEvery === 0) throw new Error(`no ${el.v}`);
              return { srcs: el.srcs, v: el.v + 1 };
            }),
          { ...options, onError: shape.onError },
        );
        break;
      }
      case "filter":
        p = p.filter((el) => seen(el, () => el.v % 3 !== 1), options);
        break;
      case "flatMap":
        p = p.flatMap((el) => seen(el, () => Array.from({ length: el.v % 3 }, (_, i) => ({ srcs: el.srcs, v: el.v + i }))), options);
        break;
      case "batch":
        p = p.batch(step.size).flatMap((group) => {
          const merged = { srcs: group.flatMap((el) => el.srcs), v: 0 };
          return seen(merged, () => group);
        }, options);
        break;
    }
  }
  return p;
}

describe("checkpoints", () => {
  it("never save past an element that has not settled; forward only; one save at a time; the end is saved", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, async (shape) => {
        const observer = new Observer();
        const saves: { position: number; seq: number }[] = [];
        let active = 0;
        let overlapped = false;
        const save = ({ position }: { position: number }): void | Promise<void> => {
          if (active > 0) overlapped = true;
          saves.push({ position, seq: observer.seq++ });
          const waiting = wait(shape.saveDelay);
          if (waiting === undefined) return;
          active++;
          return waiting.then(() => {
            active--;
          });
        };
        let failed = false;
        try {
          for await (const el of build(shape, observer, save)) {
            observer.see(el);
            await wait(shape.consumerDelay);
            observer.see(el);
          }
        } catch {
          failed = true;
        }
        const savesAtEnd = saves.length;
        await sleep(shape.interval === undefined ? 2 : shape.interval * 3);

        expect(overlapped).toBe(false);
        expect(active).toBe(0);
        // Nothing is saved after the run settled.
        expect(saves.length).toBe(savesAtEnd);
        for (let i = 1; i < saves.length; i++) expect(saves[i]!.position).toBeGreaterThan(saves[i - 1]!.position);
        for (const { position, seq } of saves) {
          for (let src = 0; src * 10 <= position; src++) {
            const last = observer.lastSeen.get(src);
            expect(last === undefined || last < seq, `element ${src} seen after a save of ${position}`).toBe(true);
          }
        }
        // Only a failing map under onError "fail" may fail the run.
        if (shape.onError === "skip" || shape.failEvery === 0) expect(failed).toBe(false);
        if (!failed && shape.count > 0) expect(saves.at(-1)?.position).toBe((shape.count - 1) * 10);
      }),
      { numRuns: 150 },
    );
    expect(unhandled.count).toBe(0);
  });
});

