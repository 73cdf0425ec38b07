/**
 * pathBelowSource: the part of ctx.index that stays the same when a source element is read
 * again in another run (what idempotent sinks such as @sluice/bullmq's enqueue key on).
 */
import { describe, expect, it } from "vitest";
import { concat, pathBelowSource, pipe, type Pipeline } from "@sluice/dsl";

/** The stable paths a sink after `pipeline` sees, sorted. */
async function pathsAfter<T>(pipeline: Pipeline<T>): Promise<string[]> {
  const paths: string[] = [];
  await pipeline.each((_, ctx) => void paths.push(JSON.stringify(pathBelowSource(pipeline as Pipeline<unknown>, ctx.index)))).run();
  return paths.sort();
}

describe("pathBelowSource", () => {
  it("leaves out the source position and keeps the expansion positions", async () => {
    expect(await pathsAfter(pipe([10, 20]).flatMap((x) => [x, x + 1]))).toEqual(["[0]", "[0]", "[1]", "[1]"]);
    expect(await pathsAfter(pipe([1, 2, 3]).map((x) => x).ordered())).toEqual(["[]", "[]", "[]"]);
  });

  it("keeps concat positions (argument order) and leaves out each input's source position, however deep", async () => {
    const p = concat(pipe(["a", "b"]), concat(pipe(["c"]), pipe(["d"]).flatMap((x) => [x, x])));
    expect(await pathsAfter(p)).toEqual(["[0]", "[0]", "[1,0]", "[1,1,0]", "[1,1,1]"]);
  });

  it("after a batch, leaves out the batch's position and the place in its first expansion", async () => {
    const p = pipe([1, 2, 3]).batch(2).flat().flatMap((x) => [x, -x]);
    expect(await pathsAfter(p)).toEqual(["[0]", "[0]", "[0]", "[1]", "[1]", "[1]"]);
  });

  it("rejects what is not a pipeline", () => {
    expect(() => pathBelowSource({} as Pipeline<unknown>, [0])).toThrow(TypeError);
  });
});
