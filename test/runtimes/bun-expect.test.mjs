// Bun's own test runner with a Pipeline (docs/behaviour.md §1.1), run by `pnpm run test:bun`
// with `bun test`. A plain .mjs file, so that neither vitest's include nor tsc's checks (there
// are no types for "bun:test" here) take it. It holds the workaround the docs give, and the
// limit itself: when Bun accepts thenables in .rejects (oven-sh/bun#18857), the last test
// fails, and the docs' note can go.
import { expect, test } from "bun:test";
import { pipe } from "@sluice/dsl";

const failing = () =>
  pipe([1, 2, 3]).map((x) => {
    if (x === 2) throw new Error("boom");
    return x;
  });

test("expect(pipeline.toArray()).rejects sees the run's error", async () => {
  await expect(failing().toArray()).rejects.toThrow("boom");
});

test("expect(pipeline.run()).rejects sees the run's error", async () => {
  await expect(failing().run()).rejects.toThrow("boom");
});

test("await on the pipeline itself works, and .resolves takes toArray()'s promise", async () => {
  expect(await pipe([1, 2]).map((x) => x * 2)).toEqual([2, 4]);
  await expect(pipe([1, 2]).map((x) => x * 2).toArray()).resolves.toEqual([2, 4]);
  let caught;
  try {
    await failing();
  } catch (error) {
    caught = error;
  }
  expect(caught?.message).toBe("boom");
});

test("the limit: .rejects refuses the thenable Pipeline itself (Bun 1.4)", async () => {
  let refused = "";
  try {
    await expect(failing()).rejects.toThrow("boom");
  } catch (error) {
    refused = String(error?.message ?? error);
  }
  expect(refused).toContain("Expected promise");
});
