import type { Piscina } from "piscina";
import { describe, expectTypeOf, it } from "vitest";
import { pipe, type Operator, type Pipeline } from "@sluice/dsl";
import { mapOnThreads, onThreads, type ResultOf, type TaskOf, type ThreadStageOptions } from "@sluice/piscina";
// A JavaScript worker module whose JSDoc types TypeScript reads (allowJs): the way the
// example and the README say to type a pipeline from the worker's export.
import type hashChunk from "../../examples/hash-worker.mjs";

type Chunk = { name: string; bytes: Uint8Array<ArrayBuffer>; rounds: number };
declare const pool: Piscina;
declare const files: string[];
declare const chunks: Chunk[];
type Digest = { file: string; sha: string };
declare function digestFile(file: string): Digest;
declare function digestAsync(bytes: Uint8Array<ArrayBuffer>): Promise<string>;

describe("@sluice/piscina types", () => {
  it("TaskOf and ResultOf read a worker function, awaiting an async one", () => {
    expectTypeOf<TaskOf<typeof digestFile>>().toEqualTypeOf<string>();
    expectTypeOf<ResultOf<typeof digestFile>>().toEqualTypeOf<Digest>();
    expectTypeOf<ResultOf<typeof digestAsync>>().toEqualTypeOf<string>();
    expectTypeOf<TaskOf<typeof hashChunk>>().toEqualTypeOf<Chunk>();
    expectTypeOf<ResultOf<typeof hashChunk>>().toEqualTypeOf<{ name: string; digest: string }>();
  });

  it("pipe(files).map(onThreads<typeof f>(pool)) is a Pipeline of the worker's result", () => {
    expectTypeOf(pipe(files).map(onThreads<typeof digestFile>(pool), { workers: 2 })).toEqualTypeOf<Pipeline<Digest>>();
    expectTypeOf(pipe(files).map(onThreads<typeof digestFile>(pool)).map((d) => d.sha)).toEqualTypeOf<Pipeline<string>>();
    expectTypeOf(pipe(chunks).map(onThreads<typeof hashChunk>(pool))).toEqualTypeOf<Pipeline<{ name: string; digest: string }>>();
  });

  it("without a type argument any element goes in and unknown comes out", () => {
    expectTypeOf(pipe([1, 2]).map(onThreads(pool))).toEqualTypeOf<Pipeline<unknown>>();
  });

  it("an element the worker does not take is a compile error", () => {
    // @ts-expect-error: the worker takes strings, the pipeline has numbers
    pipe([1, 2]).map(onThreads<typeof digestFile>(pool));
    // @ts-expect-error: transfer receives the worker's task type and must return transferables
    onThreads<typeof digestAsync>(pool, { transfer: (bytes: string) => [bytes] });
    // @ts-expect-error: not an option of onThreads
    onThreads(pool, { workers: 2 });
  });

  it("mapOnThreads<typeof f> is an Operator from the task to the result", () => {
    expectTypeOf(mapOnThreads<typeof digestFile>("./digest.worker.js", { workers: 2 })).toEqualTypeOf<Operator<string, Digest>>();
    expectTypeOf(pipe(files).through(mapOnThreads<typeof digestFile>(new URL("file:///w.js")))).toEqualTypeOf<Pipeline<Digest>>();
    expectTypeOf(pipe(files, mapOnThreads<typeof digestFile>("./w.js"))).toEqualTypeOf<Pipeline<Digest>>();
  });

  it("mapOnThreads takes map's stage options and the pool's, not the hooks", () => {
    const options: ThreadStageOptions<Uint8Array<ArrayBuffer>> = {
      workers: 4,
      threads: 2,
      timeout: 1_000,
      onTimeout: "skip",
      name: "hash",
      pool: { name: "sha256", resourceLimits: { maxOldGenerationSizeMb: 64 } },
      transfer: (bytes) => [bytes.buffer],
    };
    expectTypeOf(options.threads).toEqualTypeOf<number | undefined>();
    // @ts-expect-error: the stage's hooks create and destroy its pool
    mapOnThreads("./w.js", { onStart: () => ({}) });
    // @ts-expect-error: the stage sets the pool's size from threads
    mapOnThreads("./w.js", { pool: { maxThreads: 4 } });
    // @ts-expect-error: workers is an integer count, not a string
    mapOnThreads("./w.js", { workers: "2" });
  });
});
