/**
 * N. A NATS JetStream stream: 5,000 small messages consumed through a durable pull consumer
 * with `max_ack_pending` 16, by a sluice pipeline on `@sluice/nats`'s `messages()` and by a
 * hand-written loop over the client's own `consume()` doing the same work. Both acknowledge
 * every message; filling the stream is not timed. Needs a NATS server with JetStream:
 * NATS_URL, else a throwaway nats-server (scripts/nats-server.mjs).
 */
import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { messages } from "@sluice/nats";
import { scaled, type Mode, type TimedScenario } from "./harness.js";

const MAX_ACK_PENDING = 16;
/** What each side may fetch ahead of its work: sluice's default `prefetch`, and the loop's `max_messages`. */
const PREFETCH = 64;

/** The work of one message: trivial and asynchronous, so the server's and client's costs dominate. */
const work = async (n: number): Promise<number> => n * 2;

/** A stream filled with `n` messages and a fresh durable consumer before each timed run, deleted after it. */
class FilledStream {
  #name: string | null = null;

  constructor(
    readonly servers: string,
    readonly n: number,
  ) {}

  get name(): string {
    return this.#name!;
  }

  async fill(): Promise<void> {
    await this.dispose();
    const nc = await connect({ servers: this.servers });
    try {
      const jsm = await jetstreamManager(nc);
      const name = (this.#name = `bench_n_${randomUUID().replaceAll("-", "")}`);
      await jsm.streams.add({ name, subjects: [`${name}.>`] });
      await jsm.consumers.add(name, { durable_name: "c", ack_policy: "explicit", max_ack_pending: MAX_ACK_PENDING });
      const js = jetstream(nc);
      for (let start = 0; start < this.n; start += 500) {
        const size = Math.min(500, this.n - start);
        await Promise.all(Array.from({ length: size }, (_, i) => js.publish(`${name}.n`, String(start + i))));
      }
    } finally {
      await nc.close();
    }
  }

  async dispose(): Promise<void> {
    const name = this.#name;
    if (name === null) return;
    this.#name = null;
    await withManager(this.servers, (jsm) => jsm.streams.delete(name));
  }
}

async function withManager<R>(servers: string, f: (jsm: JetStreamManager) => Promise<R>): Promise<R> {
  const nc: NatsConnection = await connect({ servers });
  try {
    return await f(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

/** The hand-written loop: `consume()`, each message's work started at once (the consumer's max_ack_pending caps them), acked when done. */
async function consumeLoop(servers: string, stream: string, n: number): Promise<string> {
  const nc = await connect({ servers });
  let sum = 0;
  let acked = 0;
  try {
    const consumer = await jetstream(nc).consumers.get(stream, "c");
    const iterator = await consumer.consume({ max_messages: PREFETCH });
    for await (const message of iterator) {
      void work(Number(message.string())).then((x) => {
        sum += x;
        message.ack();
        if (++acked === n) iterator.stop();
      });
    }
    await nc.flush();
  } finally {
    await nc.close();
  }
  return String(sum);
}

/** The same with sluice: a messages() source, the work in a map stage, stopped after `n`. */
async function sluiceMessages(servers: string, stream: string, n: number): Promise<string> {
  let sum = 0;
  let done = 0;
  const controller = new AbortController();
  try {
    await messages({ stream, name: "c" }, { connection: { servers }, prefetch: PREFETCH })
      .map((message) => work(Number(message.string())), { workers: MAX_ACK_PENDING })
      .each((x) => {
        sum += x;
        // After this element's acknowledgement, which follows its delivery.
        if (++done === n) setTimeout(() => controller.abort(), 0);
      })
      .run({ signal: controller.signal });
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return String(sum);
}

export function scenarioN(mode: Mode, servers: string): { scenario: TimedScenario; dispose: () => Promise<void> } {
  const n = scaled(mode, 5_000, 100);
  const streams = { loop: new FilledStream(servers, n), sluice: new FilledStream(servers, n) };
  return {
    scenario: {
      id: "N",
      title: "a NATS JetStream stream",
      description: `${n.toLocaleString("en-US")} small messages (\`async (n) => n * 2\`) in a JetStream stream on a local nats-server, consumed through a durable pull consumer with max_ack_pending ${MAX_ACK_PENDING}; every message acknowledged. Filling the stream is not timed. Ratio = the loop's time / sluice's time: above 1 is faster.`,
      reference: "consume() loop",
      systems: [
        {
          name: "consume() loop",
          note: `\`for await (const m of await consumer.consume({ max_messages: ${PREFETCH} }))\` starting each message's work at once and acking it when done`,
          prepare: () => streams.loop.fill(),
          run: () => consumeLoop(servers, streams.loop.name, n),
        },
        {
          name: "sluice",
          note: `\`messages(consumer, { prefetch: ${PREFETCH} }).map(f, { workers: ${MAX_ACK_PENDING} }).each(sum)\`, aborted after the last`,
          prepare: () => streams.sluice.fill(),
          run: () => sluiceMessages(servers, streams.sluice.name, n),
        },
      ],
      targets: [{ system: "sluice", against: "consume() loop", metric: "throughput", value: 0.9, label: ">= 0.9x the consume() loop" }],
    },
    dispose: async () => {
      await streams.loop.dispose();
      await streams.sluice.dispose();
    },
  };
}
