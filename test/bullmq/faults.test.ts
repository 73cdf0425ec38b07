/**
 * @sluice/bullmq across processes, on a real Redis: consumer processes (consumer.mjs) share a
 * queue, and one killed mid-run loses no job: its jobs come back through BullMQ's stalled-job
 * check and another process completes them. "Completed" is counted from Redis's event
 * stream, so a job completed twice would show.
 */
import { describe, expect, it } from "vitest";
import { Consumer, completions, freshQueue, until } from "./support.js";

const JOBS = 60;

async function stop(consumer: Consumer): Promise<void> {
  consumer.child.kill("SIGTERM");
  const code = await consumer.exited;
  expect(code, consumer.stderr).toBe(0);
}

describe("consumer processes", () => {
  it("a consumer killed mid-run: every job is processed at least once and completed exactly once after another takes over", async () => {
    const queue = freshQueue("killed");
    const completed = await completions(queue.name);
    const first = new Consumer(queue.name, { prefetch: 4, delayMs: 20 });
    await queue.addBulk(Array.from({ length: JOBS }, (_, n) => ({ name: "n", data: n })));
    await until(() => first.processed.length >= 10, "the first consumer to process 10 jobs");
    first.child.kill("SIGKILL");
    await first.exited;
    const second = new Consumer(queue.name, { prefetch: 4, delayMs: 5 });
    try {
      // The jobs the first one held stay locked until their locks expire (1 s); then the
      // second one's stalled-job check puts them back in the queue.
      await until(async () => (await queue.getCompletedCount()) === JOBS, `${JOBS} completed jobs`, 15_000);
    } finally {
      await stop(second);
    }
    const ids = (await queue.getJobs(["completed"])).map((job) => job.id!);
    expect(new Set([...first.processed, ...second.processed])).toEqual(new Set(ids));
    await until(() => completed.size === JOBS, "every completed event");
    expect([...completed.values()].filter((count) => count !== 1)).toEqual([]);
    expect(await queue.getJobCounts("waiting", "active", "failed", "delayed")).toMatchObject({ waiting: 0, active: 0, failed: 0, delayed: 0 });
    // What the first one held when it died was taken over, not lost.
    expect(second.processed.length).toBeGreaterThan(0);
  });

  it("two consumer processes on one queue share the work, and no job is completed twice", async () => {
    const queue = freshQueue("shared");
    const completed = await completions(queue.name);
    const consumers = [0, 1].map(() => new Consumer(queue.name, { prefetch: 4, delayMs: 20 }));
    try {
      // Both workers are connected and waiting before the jobs arrive, so both get some.
      await until(async () => (await queue.getWorkers()).length === 2, "two workers on the queue", 15_000);
      await queue.addBulk(Array.from({ length: JOBS }, (_, n) => ({ name: "n", data: n })));
      await until(async () => (await queue.getCompletedCount()) === JOBS, `${JOBS} completed jobs`, 15_000);
    } finally {
      for (const consumer of consumers) await stop(consumer);
    }
    const [a, b] = consumers.map((c) => c.processed);
    expect(a!.length + b!.length).toBe(JOBS);
    expect(a!.filter((id) => b!.includes(id))).toEqual([]);
    expect(a!.length).toBeGreaterThan(0);
    expect(b!.length).toBeGreaterThan(0);
    expect(await queue.getCompletedCount()).toBe(JOBS);
    await until(() => completed.size === JOBS, "every completed event");
    expect([...completed.values()].every((count) => count === 1)).toBe(true);
  });
});
