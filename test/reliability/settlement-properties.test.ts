/**
 * Property tests of source settlement (docs/behaviour.md §13): over random chains of map,
 * filter, flatMap, batch, ordered, broadcast and `each`, consumed to the end, broken out
 * of, aborted or failed by an element, every element taken from a settling source settles
 * exactly once, before the run settles; `"done"` only once all that derives from it was
 * delivered or dropped, `"failed"` only for the element whose descendant failed the run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { concat, pipe, source, type Pipeline, type SourceOutcome } from "@sluice/dsl";
import { UnhandledRejections, sleep } from "./support.js";

const unhandled = new UnhandledRejections();
beforeAll(() => unhandled.install());
afterAll(() => unhandled.uninstall());

/** What flows: the source element it derives from, and a value. */
interface El {
  readonly src: number;
  readonly v: number;
}

type Delay = "sync" | "micro" | "timer";

interface Step {
  readonly kind: "map" | "filter" | "flatMap" | "batch" | "ordered";
  readonly workers: number;
  readonly delay: Delay;
  /** batch: its size. */
  readonly size: number;
}

interface Shape {
  readonly count: number;
  readonly steps: readonly Step[];
  /** The chain is used twice through concat (a broadcast). */
  readonly broadcast: boolean;
  /** The pipeline ends in `each` (nothing is delivered). */
  readonly each: boolean;
  /** The first map throws for this source element (-1: never). */
  readonly failSrc: number;
  /** What that map's `onError` does with the failure. */
  readonly onError: "fail" | "skip";
  readonly consumer: "toArray" | "forAwait" | "break" | "abort";
  /** break: after this many elements; abort: after this many ms. */
  readonly stopAfter: number;
  readonly asyncSettle: boolean;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom<Step["kind"]>("map", "filter", "flatMap", "batch", "ordered"),
  workers: fc.integer({ min: 1, max: 4 }),
  delay: fc.constantFrom<Delay>("sync", "micro", "timer"),
  size: fc.integer({ min: 1, max: 3 }),
});

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  count: fc.integer({ min: 0, max: 25 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
  broadcast: fc.boolean(),
  each: fc.boolean(),
  failSrc: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 25 })),
  onError: fc.constantFrom<Shape["onError"]>("fail", "skip"),
  consumer: fc.constantFrom<Shape["consumer"]>("toArray", "forAwait", "break", "abort"),
  stopAfter: fc.integer({ min: 0, max: 6 }),
  asyncSettle: fc.boolean(),
});

function wait<T>(delay: Delay, value: () => T): T | Promise<T> {
  if (delay === "sync") return value();
  if (delay === "micro") return Promise.resolve().then(value);
  return sleep(1).then(value);
}

const mapV = (v: number): number => (v * 7 + 3) % 101;
const keep = (v: number): boolean => v % 3 !== 0;
const childCount = (v: number): number => v % 3;

/** How many elements each source element gives the consumer, by the Array methods. */
function expectedPerSource(shape: Shape): number[] {
  const counts: number[] = [];
  for (let src = 0; src < shape.count; src++) {
    let elements: number[] = [src];
    for (const step of shape.steps) {
      if (step.kind === "map") elements = elements.map(mapV);
      else if (step.kind === "filter") elements = elements.filter(keep);
      else if (step.kind === "flatMap") elements = elements.flatMap((v) => Array.from({ length: childCount(v) }, (_, i) => v + i));
    }
    counts.push(shape.each ? 0 : elements.length * (shape.broadcast ? 2 : 1));
  }
  return counts;
}

function build(shape: Shape, settle: (el: number, outcome: SourceOutcome) => void | Promise<void>, pulled: { n: number }): Pipeline<El> {
  const base = source<number>(
    function* () {
      for (let i = 0; i < shape.count; i++) {
        pulled.n = i + 1;
        yield i;
      }
    },
    { settle },
  );
  let p: Pipeline<El> = base.map((src) => ({ src, v: src }));
  let thrown = false;
  for (const step of shape.steps) {
    const options = { workers: step.workers, maxsize: 2 };
    switch (step.kind) {
      case "map":
        p = p.map((el) => {
          if (!thrown && el.src === shape.failSrc) {
            thrown = true;
            throw new FailedElement(el.src);
          }
          return wait(step.delay, () => ({ src: el.src, v: mapV(el.v) }));
        }, { ...options, onError: shape.onError });
        break;
      case "filter":
        p = p.filter((el) => wait(step.delay, () => keep(el.v)), options);
        break;
      case "flatMap":
        p = p.flatMap((el) => wait(step.delay, () => Array.from({ length: childCount(el.v) }, (_, i) => ({ src: el.src, v: el.v + i }))), options);
        break;
      case "batch":
        p = p.batch(step.size).flatMap((batch) => wait(step.delay, () => batch), options);
        break;
      case "ordered":
        p = p.ordered();
        break;
    }
  }
  if (shape.broadcast) p = concat(p, p.map((el) => el));
  if (shape.each) p = p.each(() => undefined) as unknown as Pipeline<El>;
  return p;
}

class FailedElement extends Error {
  constructor(readonly src: number) {
    super(`element ${src} failed`);
  }
}

async function consume(shape: Shape, pipeline: Pipeline<El>, delivered: number[]): Promise<unknown> {
  try {
    switch (shape.consumer) {
      case "toArray":
        for (const el of await pipeline.toArray()) delivered[el.src]!++;
        return undefined;
      case "forAwait":
        for await (const el of pipeline) delivered[el.src]!++;
        return undefined;
      case "break": {
        let taken = 0;
        for await (const el of pipeline) {
          delivered[el.src]!++;
          if (++taken > shape.stopAfter) break;
        }
        return undefined;
      }
      case "abort": {
        const signal = AbortSignal.timeout(shape.stopAfter);
        for await (const el of pipeline.iterate({ signal })) delivered[el.src]!++;
        return undefined;
      }
    }
  } catch (error) {
    return error ?? new Error("undefined");
  }
}

describe("source settlement", () => {
  it("settles every element taken exactly once, before the run settles, with the right outcome", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, async (shape) => {
        const outcomes: SourceOutcome[][] = Array.from({ length: shape.count }, () => []);
        const pulled = { n: 0 };
        let ended = false;
        let lateSettles = 0;
        let awaiting = 0;
        const settle = (src: number, outcome: SourceOutcome): void | Promise<void> => {
          if (ended) lateSettles++;
          outcomes[src]!.push(outcome);
          if (!shape.asyncSettle) return;
          awaiting++;
          return sleep(0).then(() => {
            if (ended) lateSettles++;
            awaiting--;
          });
        };
        const delivered = new Array<number>(shape.count).fill(0);
        const error = await consume(shape, build(shape, settle, pulled), delivered);
        ended = true;
        await sleep(2);

        // Exactly once, for exactly the elements taken, and all before the run settled.
        expect(lateSettles).toBe(0);
        expect(awaiting).toBe(0);
        for (let src = 0; src < shape.count; src++) {
          expect(outcomes[src]!.length, `element ${src}`).toBe(src < pulled.n ? 1 : 0);
        }
        const expected = expectedPerSource(shape);
        for (let src = 0; src < pulled.n; src++) {
          const outcome = outcomes[src]![0]!;
          if (outcome.status === "done") {
            // Done means everything derived from it reached the consumer (or was dropped);
            // a toArray() that rejects hands over none of what it received.
            if (!(shape.consumer === "toArray" && error !== undefined)) expect(delivered[src], `element ${src} done`).toBe(expected[src]);
          } else if (outcome.status === "failed") {
            // The run fails with it (a consumer that broke out first does not see it), or,
            // under onError: "skip", goes on without the element.
            expect(outcome.error).toBeInstanceOf(FailedElement);
            if (shape.consumer !== "break" && shape.onError === "fail") expect(outcome.error).toBe(error);
            if (shape.onError === "skip") expect(error).not.toBeInstanceOf(FailedElement);
            // After a batch, everything derived from a batch derives from all its elements.
            if (!shape.steps.some((step) => step.kind === "batch")) expect((outcome.error as FailedElement).src).toBe(src);
          } else {
            // Released only when the run was torn down first.
            expect(error !== undefined || shape.consumer === "break").toBe(true);
          }
        }
        if (error === undefined && (shape.consumer === "toArray" || shape.consumer === "forAwait")) {
          // A skipped element (and, after a batch, the rest of its batch) failed; all else is done.
          expect(outcomes.every((o, src) => o[0]?.status === "done" || (shape.onError === "skip" && o[0]?.status === "failed" && (src === shape.failSrc || shape.steps.some((s) => s.kind === "batch"))))).toBe(true);
        }
        if (error instanceof FailedElement) expect(outcomes[error.src]![0]!.status).toBe("failed");
      }),
      { numRuns: 250 },
    );
    expect(unhandled.count).toBe(0);
  });
});
