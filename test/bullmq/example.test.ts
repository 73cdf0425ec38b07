/**
 * examples/queue-producer.ts and examples/queue-consumer.ts on the Redis of the test run: a
 * producer fills a queue and two consumers share it, each result enqueued once. And
 * examples/per-account-queue.ts: each account's jobs in order, accounts in parallel, one cap.
 */
import { describe, expect, it } from "vitest";
import { main as perAccount } from "../../examples/per-account-queue.js";
import { main as consumer } from "../../examples/queue-consumer.js";
import { main as producer } from "../../examples/queue-producer.js";
import { connection, freshQueue } from "./support.js";

describe("examples/queue-producer.ts and queue-consumer.ts", () => {
  it("a producer's 200 jobs are shared by two consumers and each result is enqueued once", async () => {
    const work = freshQueue("squares");
    const results = freshQueue<{ n: number; square: number }>("squares-results");
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const options = { connection: connection(), queueName: work.name, resultsName: results.name };
    expect(await producer(log, { connection: connection(), count: 200, queueName: work.name })).toEqual({ added: 200 });
    const [a, b] = await Promise.all([consumer(log, { ...options, name: "a" }), consumer(log, { ...options, name: "b" })]);
    expect(a!.processed + b!.processed).toBe(200);
    expect(await work.getCompletedCount()).toBe(200);
    const added = await results.getJobs(["waiting"]);
    expect(added.map((job) => job.data.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(added.every((job) => job.data.square === job.data.n ** 2)).toBe(true);
    expect(lines[0]).toBe(`added 200 jobs to ${work.name}`);
    expect(lines.slice(1).sort()).toEqual([`a: processed ${a!.processed} jobs`, `b: processed ${b!.processed} jobs`]);
  });
});

describe("examples/per-account-queue.ts", () => {
  it("applies each account's events in queue order, several accounts at once, never two of one account, within workers", async () => {
    const queue = freshQueue("account-events");
    const lines: string[] = [];
    const result = await perAccount((line) => lines.push(line), { connection: connection(), queueName: queue.name, accounts: 6, eventsPerAccount: 10, workers: 4 });
    expect(result.applied).toBe(60);
    expect(result.inOrder).toBe(true);
    expect(result.sameAccountOverlaps).toBe(0);
    expect(result.mostInFlight).toBeLessThanOrEqual(4);
    expect(result.mostInFlight).toBeGreaterThan(1);
    // 10 + 20 + ... + 100 per account.
    expect(result.balances).toEqual(Object.fromEntries(Array.from({ length: 6 }, (_, a) => [`acct-${a}`, 550])));
    expect(await queue.getCompletedCount()).toBe(60);
    expect(lines).toEqual([`applied 60 events of 6 accounts, each account in order: true, at most ${result.mostInFlight} at once`]);
  });
});
