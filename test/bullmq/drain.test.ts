/**
 * jobs() under the `drain` run option (docs/behaviour.md §15), on a real Redis: on drain the
 * worker stops fetching, the jobs it holds finish and are completed, and the run resolves;
 * jobs still in the queue stay waiting for the next consumer. With `drainTimeout`, the jobs
 * still held when it runs out go back to waiting.
 */
import { describe, expect, it } from "vitest";
import { DrainTimeoutError } from "@sluice/dsl";
import { jobs } from "@sluice/bullmq";
import { deferred } from "../helpers/time.js";
import { connection, freshQueue, until } from "./support.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("jobs() and drain", () => {
  it("stops fetching, completes the jobs it holds, and resolves; the rest stay waiting", async () => {
    const queue = freshQueue("drain");
    await queue.addBulk(Array.from({ length: 30 }, (_, n) => ({ name: "n", data: n })));
    const drain = new AbortController();
    const started: number[] = [];
    const gate = deferred();
    const run = jobs<number>(queue.name, { connection: connection(), prefetch: 4 })
      .map(
        async (job) => {
          started.push(job.data);
          await gate.promise;
          return job.data;
        },
        { workers: 4 },
      )
      .toArray({ drain: drain.signal });
    await until(() => started.length === 4, "four jobs started");
    drain.abort();
    await sleep(50);
    gate.resolve();
    const out = await run;
    // Every job taken was delivered, and no job was fetched after the drain.
    expect(out.sort((a, b) => a - b)).toEqual([...started].sort((a, b) => a - b));
    const counts = await queue.getJobCounts("waiting", "active", "completed", "failed");
    expect(counts).toMatchObject({ active: 0, failed: 0, completed: out.length, waiting: 30 - out.length });
    expect(out.length).toBeGreaterThanOrEqual(4);
    expect(out.length).toBeLessThanOrEqual(8);
  });

  it("after drainTimeout the jobs still held go back to waiting and the run rejects with DrainTimeoutError", async () => {
    const queue = freshQueue("drain-timeout");
    await queue.addBulk(Array.from({ length: 6 }, (_, n) => ({ name: "n", data: n })));
    const drain = new AbortController();
    let started = 0;
    const run = jobs<number>(queue.name, { connection: connection(), prefetch: 2 })
      .map(
        (job, { signal }) => {
          started++;
          if (job.data === 0) return job.data;
          return new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        },
        { workers: 2 },
      )
      .run({ drain: drain.signal, drainTimeout: 100 });
    await until(() => started >= 2, "two jobs started");
    drain.abort();
    await expect(run).rejects.toBeInstanceOf(DrainTimeoutError);
    const counts = await queue.getJobCounts("waiting", "active", "completed", "failed");
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    expect((counts.completed ?? 0) + (counts.waiting ?? 0)).toBe(6);
    expect(counts.waiting).toBeGreaterThanOrEqual(4);
  });
});
