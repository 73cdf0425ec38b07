import { describe, expectTypeOf, it } from "vitest";
import { DrainTimeoutError, pipe, source, type Checkpoint, type CheckpointOptions, type Pipeline, type RunOptions, type SourceOptions } from "@sluice/dsl";

interface Line {
  readonly text: string;
  readonly end: number;
}
declare const lines: AsyncIterable<Line>;

describe("source(items, { position, checkpoint })", () => {
  it("types position's element from items, and save's position from what position returns", () => {
    const resumable = source(lines, {
      position: (line) => {
        expectTypeOf(line).toEqualTypeOf<Line>();
        return line.end;
      },
      checkpoint: {
        save: (checkpoint) => {
          expectTypeOf(checkpoint).toEqualTypeOf<Checkpoint<number>>();
          expectTypeOf(checkpoint.position).toEqualTypeOf<number>();
        },
        every: 100,
        interval: 1_000,
      },
    });
    expectTypeOf(resumable).toEqualTypeOf<Pipeline<Line>>();
    source([1, 2], { position: (x) => `at ${x}`, checkpoint: { save: async ({ position }) => { expectTypeOf(position).toEqualTypeOf<string>(); } } });
  });

  it("takes settle beside a checkpoint", () => {
    source(lines, {
      settle: (line, outcome) => {
        expectTypeOf(line).toEqualTypeOf<Line>();
        expectTypeOf(outcome.status).toEqualTypeOf<"done" | "failed" | "released">();
      },
      position: (line) => line.end,
      checkpoint: { save: () => undefined },
    });
    const options: SourceOptions<Line, number> = { position: (line) => line.end, checkpoint: { save: () => undefined } };
    expectTypeOf(options).toMatchTypeOf<SourceOptions<Line, number>>();
    expectTypeOf<CheckpointOptions<Line, number>["position"]>().toEqualTypeOf<(element: Line) => number>();
  });

  it("rejects a checkpoint without position, a position without checkpoint, and a save of another position type", () => {
    // @ts-expect-error: a checkpoint needs position
    source([1], { checkpoint: { save: () => undefined } });
    // @ts-expect-error: position is read only by a checkpoint
    source([1], { position: (x: number) => x });
    // @ts-expect-error: position returns numbers, save expects strings
    source([1], { position: (x) => x, checkpoint: { save: ({ position }: { position: string }) => void position } });
    // @ts-expect-error: save is required
    source([1], { position: (x) => x, checkpoint: { every: 10 } });
    // @ts-expect-error: every is a number
    source([1], { position: (x) => x, checkpoint: { save: () => undefined, every: "often" } });
  });
});

describe("drain", () => {
  it("is a run option of every way of consuming, with drainTimeout", () => {
    const drain = new AbortController().signal;
    const options: RunOptions = { drain, drainTimeout: 5_000 };
    expectTypeOf(pipe([1]).toArray(options)).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(pipe([1]).run({ drain })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(pipe([1]).iterate({ drain, drainTimeout: 10 })).toEqualTypeOf<AsyncIterableIterator<number>>();
    pipe([1]).toReadableStream({ drain });
    // @ts-expect-error: drain is an AbortSignal
    void pipe([1]).run({ drain: true });
  });

  it("rejects with a DrainTimeoutError that says its timeout", () => {
    expectTypeOf(new DrainTimeoutError(10).timeout).toEqualTypeOf<number>();
    expectTypeOf(new DrainTimeoutError(10)).toMatchTypeOf<Error>();
  });
});
