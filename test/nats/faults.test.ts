/**
 * @sluice/nats across processes, on a real nats-server: consumer processes (consumer.mjs)
 * share a durable consumer, and one killed with SIGKILL mid-run loses no message: what it
 * held comes back after the consumer's ack_wait and another process finishes it. Every
 * acknowledgement the server receives is recorded, so a message acknowledged twice would show.
 */
import { describe, expect, it } from "vitest";
import { ConsumerProcess, acknowledgements, client, count, durable, fill, freshStream, until } from "./support.js";

const MESSAGES = 60;

async function stop(consumer: ConsumerProcess): Promise<void> {
  consumer.child.kill("SIGTERM");
  const code = await consumer.exited;
  expect(code, consumer.stderr).toBe(0);
}

describe("consumer processes", () => {
  it("a consumer killed mid-run: every message is processed at least once and acknowledged exactly once after another takes over", async () => {
    const stream = await freshStream("killed");
    // A short ack_wait, so that what the killed one held comes back within a second.
    const consumer = await durable(stream, "c", { ack_wait: 1_000_000_000 });
    const acks = await acknowledgements(stream);
    const first = new ConsumerProcess(consumer, { workers: 4, delayMs: 20 });
    const sequences = await fill(stream, MESSAGES);
    await until(() => first.processed.length >= 10, "the first consumer to process 10 messages");
    first.child.kill("SIGKILL");
    await first.exited;
    const second = new ConsumerProcess(consumer, { workers: 4, delayMs: 5 });
    try {
      await until(() => count(acks, "+ACK") >= MESSAGES, `${MESSAGES} acks`, 15_000);
      // Time for a second ack of anything, were one to come.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await stop(second);
    }
    expect(new Set([...first.processed, ...second.processed])).toEqual(new Set(sequences));
    expect([...acks.entries()].filter(([, list]) => list.filter((ack) => ack === "+ACK").length !== 1)).toEqual([]);
    expect(count(acks, "+ACK")).toBe(MESSAGES);
    const { jsm } = await client();
    const info = await jsm.consumers.info(stream, "c");
    expect({ ackPending: info.num_ack_pending, pending: info.num_pending }).toEqual({ ackPending: 0, pending: 0 });
    // What the first one held when it died was taken over, not lost.
    expect(second.processed.length).toBeGreaterThan(0);
  });

  it("two consumer processes on one durable consumer share the work, and nothing is acknowledged twice", async () => {
    const stream = await freshStream("shared");
    const consumer = await durable(stream, "c");
    const acks = await acknowledgements(stream);
    const consumers = [0, 1].map(() => new ConsumerProcess(consumer, { workers: 4, delayMs: 20 }));
    try {
      // Both have a pull request waiting before the messages arrive, so both get some.
      const { jsm } = await client();
      await until(async () => (await jsm.consumers.info(stream, "c")).num_waiting >= 2, "two waiting pull requests", 15_000);
      await fill(stream, MESSAGES);
      await until(() => count(acks, "+ACK") >= MESSAGES, `${MESSAGES} acks`, 15_000);
    } finally {
      for (const consumer of consumers) await stop(consumer);
    }
    const [a, b] = consumers.map((c) => c.processed);
    expect(a!.length + b!.length).toBe(MESSAGES);
    expect(a!.filter((sequence) => b!.includes(sequence))).toEqual([]);
    expect(a!.length).toBeGreaterThan(0);
    expect(b!.length).toBeGreaterThan(0);
    expect([...acks.values()].every((list) => list.filter((ack) => ack === "+ACK").length === 1)).toBe(true);
  });
});
