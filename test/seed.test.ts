import { describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { range, sleep } from "./helpers/time.js";

const slowAdd1 = async (x: number) => {
  await sleep(Math.random() * 4);
  return x + 1;
};
const slowGt3 = async (x: number) => {
  await sleep(Math.random() * 4);
  return x > 3;
};

describe("the seed example", () => {
  const stage = pipe(() => range(10))
    .map(slowAdd1, { workers: 3, maxsize: 4 })
    .filter(slowGt3, { workers: 2 });

  it("await gives the elements 4..10 in some order", async () => {
    const data = await stage;
    expect([...data].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });

  it("for await gives the same elements", async () => {
    const seen: number[] = [];
    for await (const x of stage) seen.push(x);
    expect(seen.sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10]);
  });
});
