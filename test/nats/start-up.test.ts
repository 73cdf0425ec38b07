/**
 * @sluice/nats bad input: options checked when the pipeline is built, an unreachable server
 * and a consumer that does not exist failing the run with errors that say so.
 */
import { createServer, type Socket } from "node:net";
import { OptionsError } from "@sluice/dsl";
import { ConsumerError, NatsConnectionError, messages, type MessageSourceOptions } from "@sluice/nats";
import { describe, expect, it } from "vitest";
import { client, connection, durable, freshStream } from "./support.js";

/** A port of 127.0.0.1 nobody listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A local TCP server that accepts connections and never says a word (a NATS server sends its
 * INFO first, so a client's handshake waits forever). Keeps the sockets it accepted.
 */
function silentServer(): Promise<{ port: number; sockets: Socket[]; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      const close = (): Promise<void> => {
        for (const socket of sockets) socket.destroy();
        return new Promise((done) => server.close(() => done()));
      };
      resolve({ port, sockets, close });
    });
  });
}

describe("options", () => {
  const consumer = { stream: "s", name: "c" };
  const build = (options: unknown) => () => messages(consumer, options as MessageSourceOptions);

  it("are checked when the pipeline is built, as OptionsErrors naming messages() and the option", () => {
    expect(build({ connection: connection(), prefetch: 0 })).toThrow(new OptionsError("messages(): options.prefetch must be an integer >= 1 (received 0)"));
    expect(build({ connection: connection(), connectTimeout: -1 })).toThrow(/messages\(\): options\.connectTimeout must be a number of milliseconds > 0/);
    expect(build({ connection: connection(), retryDelay: "soon" })).toThrow(/messages\(\): options\.retryDelay must be a number of milliseconds >= 0/);
    expect(build({ connection: connection(), prefech: 8 })).toThrow(/messages\(\): options\.prefech is not an option \(options are: connection, prefetch, retryDelay, connectTimeout\)/);
    expect(build({})).toThrow(/messages\(\): options\.connection must be the connect\(\) options/);
    expect(() => messages({ stream: "", name: "c" }, { connection: connection() })).toThrow(/messages\(\): consumer must be \{ stream, name \}/);
    for (const make of [build({ connection: connection(), prefetch: 1.5 }), build(null)]) expect(make).toThrow(OptionsError);
  });

  it("a retryDelay function that gives a bad delay fails the run with an OptionsError", async () => {
    const stream = await freshStream("baddelay");
    const name = await durable(stream, "c");
    const { js } = await client();
    await js.publish(`${stream}.x`, "1");
    const run = messages(name, { connection: connection(), retryDelay: () => Number.NaN })
      .map(() => {
        throw new Error("boom");
      }, { onError: "skip" })
      .run();
    await expect(run).rejects.toThrow(/messages\(\): options\.retryDelay must be a number of milliseconds >= 0 .*received NaN/);
  });
});

describe("start-up", () => {
  it("a server that is not there fails the run within connectTimeout with a NatsConnectionError", async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = messages({ stream: "s", name: "c" }, { connection: { servers: `127.0.0.1:${port}` }, connectTimeout: 3_000 }).run();
    const error: unknown = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsConnectionError);
    expect(error).toMatchObject({ name: "NatsConnectionError", address: `127.0.0.1:${port}`, connectTimeout: 3_000 });
    expect((error as Error).message).toMatch(new RegExp(`^messages\\(s/c\\): could not connect to NATS at 127.0.0.1:${port} within 3000 ms \\(options.connectTimeout\\); last error: `));
    expect((error as Error).cause).toBeInstanceOf(Error);
    // No retry loop: well before a second connectTimeout.
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it("a server that accepts the connection and never answers fails the run after connectTimeout with a NatsConnectionError, without a retry", async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const run = messages({ stream: "s", name: "c" }, { connection: { servers: `127.0.0.1:${silent.port}` }, connectTimeout: 300 }).run();
      const error: unknown = await run.catch((e: unknown) => e);
      const waited = Date.now() - started;
      expect(error).toBeInstanceOf(NatsConnectionError);
      expect(error).toMatchObject({ address: `127.0.0.1:${silent.port}`, connectTimeout: 300 });
      expect((error as Error).message).toMatch(/within 300 ms \(options\.connectTimeout\)/);
      // The attempt reached the server and hung there: the run waited for the timer, not for an answer.
      expect(silent.sockets).toHaveLength(1);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(5_000);
      // The hung attempt is given up, not retried. (Its socket is not closed by the client: see
      // packages/nats/README.md, "Connecting".)
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(silent.sockets).toHaveLength(1);
    } finally {
      await silent.close();
    }
  });

  it("a consumer that does not exist fails the run with a ConsumerError", async () => {
    const stream = await freshStream("nobody");
    const run = messages({ stream, name: "nobody" }, { connection: connection() }).run();
    await expect(run).rejects.toThrow(new ConsumerError(stream, "nobody", `the consumer nobody of stream ${stream} does not exist (create it first: a durable pull consumer)`));
    await expect(run).rejects.toMatchObject({ name: "ConsumerError", stream, consumer: "nobody" });
  });

  it("a stream that does not exist fails the run with a ConsumerError", async () => {
    const run = messages({ stream: "no_such_stream", name: "c" }, { connection: connection() }).run();
    await expect(run).rejects.toThrow("messages(no_such_stream/c): the stream no_such_stream does not exist");
  });

  it("a push consumer fails the run with a ConsumerError", async () => {
    const stream = await freshStream("push");
    await durable(stream, "pushed", { deliver_subject: `${stream}_deliver` });
    const run = messages({ stream, name: "pushed" }, { connection: connection() }).run();
    await expect(run).rejects.toThrow(`messages(${stream}/pushed): the consumer pushed of stream ${stream} is a push consumer (messages() takes a pull consumer)`);
  });
});
