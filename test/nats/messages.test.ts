/**
 * @sluice/nats messages() against a real nats-server with JetStream: every acknowledgement
 * the server receives is recorded per stream sequence (support.ts `acknowledgements`), so a
 * message acknowledged twice, or never, shows.
 */
import { ConsumerError, messages } from "@sluice/nats";
import { describe, expect, it } from "vitest";
import { acknowledgements, client, connection, count, durable, fill, freshStream, until } from "./support.js";

/** Aborts `controller` once `condition()` holds, and expects the run to reject with that abort. */
async function stopWhen(run: Promise<void>, controller: AbortController, condition: () => boolean, what: string): Promise<void> {
  await until(condition, what);
  const reason = new Error("enough");
  controller.abort(reason);
  await expect(run).rejects.toBe(reason);
}

/** The payloads (as numbers, sorted) of the first `n` messages a new run of `consumer` processes. */
async function taken(consumer: { stream: string; name: string }, n: number): Promise<number[]> {
  const seen: number[] = [];
  const controller = new AbortController();
  const run = messages(consumer, { connection: connection() })
    .each((message) => void seen.push(Number(message.string())))
    .run({ signal: controller.signal });
  await stopWhen(run, controller, () => seen.length >= n, `${n} messages`);
  return seen.sort((a, b) => a - b);
}

async function pending(stream: string, name: string): Promise<{ ackPending: number; pending: number }> {
  const { jsm } = await client();
  const info = await jsm.consumers.info(stream, name);
  return { ackPending: info.num_ack_pending, pending: info.num_pending };
}

describe("settlement", () => {
  it("every message is processed and acknowledged exactly once", async () => {
    const stream = await freshStream("once");
    const consumer = await durable(stream, "c", { max_ack_pending: 50 });
    const sequences = await fill(stream, 200);
    const acks = await acknowledgements(stream);
    const seen: number[] = [];
    const controller = new AbortController();
    const run = messages(consumer, { connection: connection(), prefetch: 16 })
      .map(async (message) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(Number(message.string()));
      }, { workers: 16 })
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => count(acks, "+ACK") === 200, "200 acks");
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect([...acks.keys()].sort((a, b) => a - b)).toEqual(sequences);
    expect([...acks.values()].filter((list) => list.length !== 1 || list[0] !== "+ACK")).toEqual([]);
    expect(await pending(stream, "c")).toEqual({ ackPending: 0, pending: 0 });
  });

  it("a failed message is nak'ed and redelivered until max_deliver, then termed", async () => {
    const stream = await freshStream("fail");
    const consumer = await durable(stream, "c", { max_deliver: 3 });
    const sequences = await fill(stream, 20);
    const acks = await acknowledgements(stream);
    const deliveries = new Map<number, number[]>();
    const controller = new AbortController();
    const run = messages(consumer, { connection: connection() })
      .map((message) => {
        const n = Number(message.string());
        deliveries.set(n, [...(deliveries.get(n) ?? []), message.info.deliveryCount]);
        if (n % 5 === 0) throw new Error(`no ${n}`);
        return n;
      }, { workers: 4, onError: "skip" })
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => count(acks, "+TERM") === 4 && count(acks, "+ACK") === 16, "4 terms and 16 acks");
    for (const [n, counts] of deliveries) expect(counts, `message ${n}`).toEqual(n % 5 === 0 ? [1, 2, 3] : [1]);
    for (const [index, sequence] of sequences.entries()) {
      const list = acks.get(sequence)!;
      if (index % 5 === 0) {
        expect(list.slice(0, 2).every((ack) => ack.startsWith("-NAK"))).toBe(true);
        expect(list[2]).toMatch(/^\+TERM failed on delivery 3 of 3: no \d+$/);
        expect(list).toHaveLength(3);
      } else {
        expect(list).toEqual(["+ACK"]);
      }
    }
  });

  it("retryDelay is sent with the nak, as a function of the delivery count", async () => {
    const stream = await freshStream("delay");
    const consumer = await durable(stream, "c", { max_deliver: 3 });
    const [sequence] = await fill(stream, 1);
    const acks = await acknowledgements(stream);
    const controller = new AbortController();
    const run = messages(consumer, { connection: connection(), retryDelay: (deliveryCount) => 10 * deliveryCount })
      .map(() => {
        throw new Error("always");
      }, { onError: "skip" })
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => count(acks, "+TERM") === 1, "the term");
    // The delay goes out in nanoseconds.
    expect(acks.get(sequence!)!.slice(0, 2)).toEqual(['-NAK {"delay":10000000}', '-NAK {"delay":20000000}']);
  });

  it("a message held longer than the consumer's ack_wait is kept with working() and not redelivered", async () => {
    const stream = await freshStream("working");
    const consumer = await durable(stream, "c", { ack_wait: 600_000_000 });
    const [sequence] = await fill(stream, 1);
    const acks = await acknowledgements(stream);
    const deliveries: number[] = [];
    const controller = new AbortController();
    const run = messages(consumer, { connection: connection() })
      .map(async (message) => {
        deliveries.push(message.info.deliveryCount);
        // Three ack_waits: without working() the server would send it again twice.
        await new Promise((resolve) => setTimeout(resolve, 1_800));
      })
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => count(acks, "+ACK") === 1, "the ack");
    expect(deliveries).toEqual([1]);
    const list = acks.get(sequence!)!;
    expect(list.at(-1)).toBe("+ACK");
    expect(list.slice(0, -1).every((ack) => ack === "+WPI")).toBe(true);
    expect(list.length).toBeGreaterThanOrEqual(3);
  });

  it("an abort gives back what the run holds: nak'ed, not acknowledged, and a later run takes it", async () => {
    const stream = await freshStream("abort");
    const consumer = await durable(stream, "c");
    await fill(stream, 10);
    const acks = await acknowledgements(stream);
    const controller = new AbortController();
    let started = 0;
    const run = messages(consumer, { connection: connection(), prefetch: 4 })
      .map((_message, ctx) => {
        started++;
        return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      }, { workers: 2 })
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => started === 2, "two calls");
    await until(() => count(acks, "-NAK") >= 2, "the naks");
    expect(count(acks, "+ACK")).toBe(0);
    // Redelivered at once (the naks have no delay), not after ack_wait.
    expect(await taken(consumer, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("for await: each message is acknowledged when the loop asks for the next; break gives back the one in hand", async () => {
    const stream = await freshStream("loop");
    const consumer = await durable(stream, "c");
    const sequences = await fill(stream, 5);
    const acks = await acknowledgements(stream);
    const seen: string[] = [];
    for await (const message of messages(consumer, { connection: connection(), prefetch: 2 })) {
      seen.push(message.string());
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(["0", "1", "2"]);
    await until(() => acks.size >= 3, "the acknowledgements");
    expect(acks.get(sequences[0]!)).toEqual(["+ACK"]);
    expect(acks.get(sequences[1]!)).toEqual(["+ACK"]);
    expect(acks.get(sequences[2]!)).toEqual(["-NAK"]);
    // What was fetched ahead and not taken was given back too; a later run gets all the rest.
    expect(await taken(consumer, 3)).toEqual([2, 3, 4]);
  });
});

describe("flow", () => {
  it("a run holds a bounded number of messages when its stages are slower than the stream", async () => {
    const stream = await freshStream("bound");
    const consumer = await durable(stream, "c", { max_ack_pending: 1_000 });
    await fill(stream, 300);
    const controller = new AbortController();
    let started = 0;
    let held = 0;
    const run = messages(consumer, { connection: connection(), prefetch: 8 })
      .map((_message, ctx) => {
        started++;
        return new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
      }, { workers: 4 })
      .run({ signal: controller.signal });
    await until(() => started === 4, "four calls");
    // Long enough for several pull requests, were the feed to keep pulling.
    await new Promise((resolve) => setTimeout(resolve, 300));
    held = (await pending(stream, "c")).ackPending;
    const reason = new Error("enough");
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(held).toBeGreaterThanOrEqual(4);
    expect(held).toBeLessThan(60);
  });

  it("a consumer deleted during the run fails it with a ConsumerError", async () => {
    const stream = await freshStream("deleted");
    const consumer = await durable(stream, "c");
    await fill(stream, 1);
    let seen = 0;
    // Caught at once: the run may fail while the deletion is still being answered.
    const failed = messages(consumer, { connection: connection() })
      .map(() => void seen++)
      .run()
      .then(() => null, (error: unknown) => error);
    await until(() => seen === 1, "the first message");
    const { jsm } = await client();
    await jsm.consumers.delete(stream, "c");
    expect(await failed).toEqual(new ConsumerError(stream, "c", `the consumer c of stream ${stream} does not exist (create it first: a durable pull consumer)`));
    expect(await failed).toBeInstanceOf(ConsumerError);
  });

  it("the elements are the messages in stream order with one worker, and a subject token makes a key", async () => {
    const stream = await freshStream("order");
    const consumer = await durable(stream, "c");
    const { js } = await client();
    for (let n = 0; n < 12; n++) await js.publish(`${stream}.account.${n % 3}`, String(n));
    const out: { account: string | undefined; n: number }[] = [];
    const controller = new AbortController();
    const run = messages(consumer, { connection: connection() })
      .map((message) => ({ account: message.subject.split(".")[2], n: Number(message.string()) }))
      .each((x) => void out.push(x))
      .run({ signal: controller.signal });
    await stopWhen(run, controller, () => out.length === 12, "12 messages");
    expect(out.map((x) => x.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(out.filter((x) => x.account === "1").map((x) => x.n)).toEqual([1, 4, 7, 10]);
  });
});
