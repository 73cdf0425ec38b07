/**
 * messages() under the `drain` run option (docs/behaviour.md §15), on a real nats-server:
 * every acknowledgement the server receives is recorded per stream sequence (support.ts
 * `acknowledgements`). On a drain the run stops fetching, gives back (`nak`) what it fetched
 * but never handed out, lets the messages handed out finish and acknowledges each once, and
 * resolves once the connection has flushed them and closed. With `drainTimeout`, what is still held then is
 * given back and the run rejects with a DrainTimeoutError.
 */
import type { JsMsg } from "@nats-io/jetstream";
import { DrainTimeoutError } from "@sluice/dsl";
import { messages } from "@sluice/nats";
import { describe, expect, it } from "vitest";
import { deferred } from "../helpers/time.js";
import { acknowledgements, client, connection, count, durable, fill, freshStream, received, until } from "./support.js";

async function ackPending(stream: string, name: string): Promise<number> {
  const { jsm } = await client();
  return (await jsm.consumers.info(stream, name)).num_ack_pending;
}

/** The stream sequences a new run of `consumer` takes until it has acknowledged `n` messages in all of `acks`. */
async function takeTheRest(consumer: { stream: string; name: string }, acks: Map<number, string[]>, total: number): Promise<number[]> {
  const seen: number[] = [];
  const drain = new AbortController();
  const run = messages(consumer, { connection: connection() })
    .each((message) => void seen.push(message.seq))
    .run({ drain: drain.signal });
  await until(() => count(acks, "+ACK") === total, `${total} acks in all`);
  drain.abort();
  await run;
  return seen;
}

describe("messages() and drain", () => {
  it("drain finishes held messages: fetching stops, each held message is acknowledged once, the rest is given back, the run resolves", async () => {
    const stream = await freshStream("drain");
    const consumer = await durable(stream, "c");
    const sequences = await fill(stream, 200);
    const acks = await acknowledgements(stream);
    const drain = new AbortController();
    const started: number[] = [];
    const gate = deferred();
    const run = messages(consumer, { connection: connection(), prefetch: 8 })
      .map(
        async (message: JsMsg) => {
          started.push(message.seq);
          await gate.promise;
          return message.seq;
        },
        { workers: 4 },
      )
      .toArray({ drain: drain.signal });
    await until(() => started.length === 4, "four calls");
    // Let the stages' queues and the feed's buffer fill up, so that the drain has some to give back.
    let heldAtDrain = 0;
    await until(async () => {
      const before = heldAtDrain;
      await new Promise((resolve) => setTimeout(resolve, 150));
      heldAtDrain = await ackPending(stream, "c");
      return heldAtDrain > 4 && heldAtDrain === before;
    }, "the run to stop fetching");
    drain.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(count(acks, "+ACK")).toBe(0);
    gate.resolve();
    const out = await run;
    await received(acks);

    // What was handed out finished: every call's message delivered and acknowledged once, never nak'ed.
    expect(out.sort((a, b) => a - b)).toEqual([...started].sort((a, b) => a - b));
    expect(out.length).toBeGreaterThanOrEqual(4);
    for (const sequence of out) expect(acks.get(sequence), `message ${sequence}`).toEqual(["+ACK"]);
    // What was fetched and not handed out went back, once each; nothing else was touched.
    const givenBack = [...acks.keys()].filter((sequence) => !out.includes(sequence));
    expect(givenBack.length).toBeGreaterThan(0);
    for (const sequence of givenBack) expect(acks.get(sequence), `message ${sequence}`).toEqual(["-NAK"]);
    // Nothing was fetched after the drain: what the run took is what it held then.
    expect(out.length + givenBack.length).toBe(heldAtDrain);

    // The next run takes exactly the messages this one did not acknowledge.
    const rest = await takeTheRest(consumer, acks, 200);
    expect([...out, ...rest].sort((a, b) => a - b)).toEqual(sequences);
    expect([...acks.values()].filter((list) => list.filter((ack) => ack === "+ACK").length !== 1)).toEqual([]);
  });

  it("a drain of an idle run (waiting for messages) resolves with nothing and acknowledges nothing", async () => {
    const stream = await freshStream("idle");
    const consumer = await durable(stream, "c");
    const acks = await acknowledgements(stream);
    const drain = new AbortController();
    let opened = false;
    const run = messages(consumer, { connection: connection() })
      .map((message) => message.seq, { onStart: () => void (opened = true) })
      .toArray({ drain: drain.signal });
    await until(() => opened, "the run's start");
    const { jsm } = await client();
    await until(async () => (await jsm.consumers.info(stream, "c")).num_waiting >= 1, "a pull request of the run");
    drain.abort();
    expect(await run).toEqual([]);
    expect(acks.size).toBe(0);
  });

  it("a drain aborted before the run starts takes nothing: the run resolves and the messages stay for the next run", async () => {
    const stream = await freshStream("early");
    const consumer = await durable(stream, "c");
    const sequences = await fill(stream, 3);
    const acks = await acknowledgements(stream);
    expect(await messages(consumer, { connection: connection() }).toArray({ drain: AbortSignal.abort() })).toEqual([]);
    const { jsm } = await client();
    expect((await jsm.consumers.info(stream, "c")).delivered.stream_seq).toBe(0);
    expect(await takeTheRest(consumer, acks, 3)).toEqual(sequences);
  });

  it("drainTimeout: what is still held then is given back (nak) and the run rejects with DrainTimeoutError", async () => {
    const stream = await freshStream("draintimeout");
    const consumer = await durable(stream, "c");
    const sequences = await fill(stream, 6);
    const acks = await acknowledgements(stream);
    const drain = new AbortController();
    const started: number[] = [];
    const run = messages(consumer, { connection: connection(), prefetch: 2 })
      .map(
        (message, { signal }) => {
          started.push(message.seq);
          if (message.seq === sequences[0]) return message.seq;
          return new Promise<number>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
        },
        { workers: 2 },
      )
      .run({ drain: drain.signal, drainTimeout: 100 });
    await until(() => started.length >= 2 && count(acks, "+ACK") === 1, "two calls and the first ack");
    drain.abort();
    await expect(run).rejects.toBeInstanceOf(DrainTimeoutError);
    await received(acks);
    // The first message finished before the drain: acknowledged. Every other one the run took is nak'ed once.
    expect(acks.get(sequences[0]!)).toEqual(["+ACK"]);
    for (const sequence of started.filter((n) => n !== sequences[0])) expect(acks.get(sequence), `message ${sequence}`).toEqual(["-NAK"]);
    expect([...acks.values()].filter((list) => list.length !== 1)).toEqual([]);
    expect(count(acks, "+ACK")).toBe(1);
    expect(count(acks, "-NAK")).toBe(5);
    // A later run gets the five others at once (the naks have no delay).
    const rest = await takeTheRest(consumer, acks, 6);
    expect(rest.sort((a, b) => a - b)).toEqual(sequences.slice(1));
  });
});
