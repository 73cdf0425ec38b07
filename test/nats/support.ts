/**
 * Shared tools of the @sluice/nats tests: the NATS server of the run
 * (test/helpers/nats-setup.ts), fresh streams and consumers that are deleted afterwards, a
 * recorder of every acknowledgement the server receives, and child consumer processes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager, type ConsumerConfig, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterEach, inject } from "vitest";

/** The `connection` option of `messages()` for the server of this test run. */
export function connection(): { servers: string } {
  return { servers: inject("natsUrl") };
}

const opened: NatsConnection[] = [];
const streams: string[] = [];

afterEach(async () => {
  if (streams.length > 0) {
    const { jsm } = await client();
    for (const name of streams.splice(0)) await jsm.streams.delete(name);
  }
  for (const nc of opened.splice(0)) await nc.close();
});

/** A connection of the test itself, closed after the test. */
export async function client(): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
  const nc = await connect(connection());
  opened.push(nc);
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** A new stream on `<name>.>` with a unique name, deleted after the test; its name is also its subject prefix. */
export async function freshStream(label: string): Promise<string> {
  const name = `${label}_${randomUUID().replaceAll("-", "")}`;
  const { jsm } = await client();
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  streams.push(name);
  return name;
}

/** A durable pull consumer of `stream` with explicit acks and the given settings. */
export async function durable(stream: string, name: string, config: Partial<ConsumerConfig> = {}): Promise<{ stream: string; name: string }> {
  const { jsm } = await client();
  await jsm.consumers.add(stream, { durable_name: name, ack_policy: "explicit", ...config });
  return { stream, name };
}

/** Publishes `count` messages `0`, `1`, ... on `<stream>.<subject>`; resolves with their stream sequences. */
export async function fill(stream: string, count: number, subject = "n"): Promise<number[]> {
  const { js } = await client();
  const sequences: number[] = [];
  for (let n = 0; n < count; n++) sequences.push((await js.publish(`${stream}.${subject}`, String(n))).seq);
  return sequences;
}

/**
 * Every acknowledgement the server receives for `stream`, as the kind (`+ACK`, `-NAK`,
 * `+TERM`, `+WPI`, with a NAK's delay as sent) per stream sequence, in arrival order: the
 * acknowledgements are plain messages on `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>...`,
 * so a subscriber sees each one the clients send.
 */
export async function acknowledgements(stream: string): Promise<Map<number, string[]>> {
  const { nc } = await client();
  const acks = new Map<number, string[]>();
  recorders.set(acks, nc);
  nc.subscribe(`$JS.ACK.${stream}.>`, {
    callback: (_error, msg) => {
      const sequence = Number(msg.subject.split(".")[5]);
      const list = acks.get(sequence) ?? [];
      list.push(msg.string());
      acks.set(sequence, list);
    },
  });
  await nc.flush();
  return acks;
}

const recorders = new WeakMap<Map<number, string[]>, NatsConnection>();

/**
 * Resolves once `acks` holds every acknowledgement the server had received when this was
 * called (a round trip on the recorder's connection: the server sends it what it forwarded
 * before the answer). After a run that flushed its acknowledgements before settling, `acks`
 * then holds all of them.
 */
export async function received(acks: Map<number, string[]>): Promise<void> {
  await recorders.get(acks)!.flush();
}

/** How many acknowledgements of `kind` (a prefix: `+ACK`, `-NAK`, ...) `acks` holds in all. */
export function count(acks: Map<number, string[]>, kind: string): number {
  let total = 0;
  for (const list of acks.values()) total += list.filter((ack) => ack.startsWith(kind)).length;
  return total;
}

/** Waits until `condition()` holds, checking every 20 ms (helpers/poll.ts). */
export { pollUntil as until } from "../helpers/poll.js";

/** A consumer process (test/nats/consumer.mjs) and the stream sequences it reported processing. */
export class ConsumerProcess {
  readonly processed: number[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stderr = "";

  constructor(consumer: { stream: string; name: string }, options: { workers: number; delayMs: number }) {
    const script = fileURLToPath(new URL("./consumer.mjs", import.meta.url));
    this.child = spawn(
      process.execPath,
      [script, inject("natsUrl"), consumer.stream, consumer.name, String(options.workers), String(options.delayMs)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let pending = "";
    this.child.stdout!.on("data", (data: Buffer) => {
      pending += data.toString();
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith("processed ")) this.processed.push(Number(line.slice("processed ".length)));
    });
    this.child.stderr!.on("data", (data: Buffer) => {
      this.#stderr += data.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** What the process wrote to stderr (for failure messages). */
  get stderr(): string {
    return this.#stderr;
  }
}
