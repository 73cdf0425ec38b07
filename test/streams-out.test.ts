/**
 * Streams out (docs/behaviour.md §5): `toReadableStream()`, and a pipeline used as it is by
 * Node's `Readable.from` and `stream.pipeline`, with backpressure and teardown passing through.
 */
import { Readable, Transform, Writable } from "node:stream";
import { pipeline as streamPipeline } from "node:stream/promises";
import { describe, expect, it } from "vitest";
import { pipe } from "@sluice/dsl";
import { main as ndjsonMain, startServer } from "../examples/ndjson-server.js";
import { CountingSource } from "./helpers/probes.js";
import { range, sleep, tick, until } from "./helpers/time.js";
import { recordUnhandledRejections } from "./helpers/unhandled.js";

const unhandled = recordUnhandledRejections();

describe("toReadableStream()", () => {
  it("gives every element, then closes", async () => {
    const stream = pipe(() => range(50)).map(async (x) => (await sleep(0), x * 2), { workers: 4 }).ordered().toReadableStream();
    const seen: number[] = [];
    for await (const x of stream as unknown as AsyncIterable<number>) seen.push(x);
    expect(seen).toEqual([...range(50)].map((x) => x * 2));
  });

  it("starts nothing before the first read, and pulls no more than iterate() for the same reads", async () => {
    const viaStream = new CountingSource();
    const stream = pipe(viaStream).map((x) => x, { maxsize: 2 }).toReadableStream();
    await sleep(5);
    expect(viaStream.pulls).toBe(0);
    const reader = stream.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await sleep(5);

    const viaIterate = new CountingSource();
    const it = pipe(viaIterate).map((x) => x, { maxsize: 2 }).iterate();
    for (let i = 0; i < 3; i++) await it.next();
    await sleep(5);
    expect(viaStream.pulls).toBe(viaIterate.pulls);
    await reader.cancel();
    await it.return!();
  });

  it("cancel() tears the run down and resolves after onDone and the source's finally", async () => {
    const source = new CountingSource();
    let done = 0;
    const stream = pipe(source).map(async (x) => (await sleep(1), x), { workers: 3, onDone: () => sleep(10).then(() => void done++) }).toReadableStream();
    const reader = stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel(new Error("client went away"));
    expect(done).toBe(1);
    expect(source.finallyRan).toBe(1);
  });

  it("errors with the run's error object itself", async () => {
    const boom = new Error("boom");
    const stream = pipe([1, 2, 3]).map(async (x) => {
      if (x === 2) throw boom;
      return x;
    }).toReadableStream();
    const reader = stream.getReader();
    let error: unknown;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch (e) {
      error = e;
    }
    expect(error).toBe(boom);
  });

  it("errors with the signal's reason when the caller aborts", async () => {
    const controller = new AbortController();
    const reason = new Error("deadline");
    const stream = pipe(new CountingSource()).map(async (x) => (await sleep(1), x)).toReadableStream({ signal: controller.signal });
    const reader = stream.getReader();
    await reader.read();
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
  });

  it("a run that fails while no read is pending errors the stream at once: reader.closed rejects", async () => {
    for (const cause of ["f throws", "the caller aborts"] as const) {
      const controller = new AbortController();
      const boom = new Error(cause);
      let failing = false;
      const stream = pipe([1, 2])
        .map(
          async (x) => {
            if (x === 1) return x;
            await sleep(1);
            failing = true;
            if (cause === "f throws") throw boom;
            controller.abort(boom);
            return x;
          },
          { workers: 2 },
        )
        .toReadableStream({ signal: controller.signal });
      const reader = stream.getReader();
      let closed: unknown = "pending";
      reader.closed.then(
        () => (closed = "closed"),
        (error: unknown) => (closed = error),
      );
      expect(await reader.read()).toEqual({ done: false, value: 1 });
      await until(() => failing, "the failing call");
      await until(() => closed !== "pending", "reader.closed to settle", 1_000);
      expect(closed).toBe(boom);
      await expect(reader.read()).rejects.toBe(boom);
    }
  });

  it("rejects bad options before anything runs", () => {
    expect(() => pipe([1]).toReadableStream({ signal: "x" } as never)).toThrow(
      /^toReadableStream\(\): options.signal must be an AbortSignal/,
    );
  });
});

describe("Node streams take a pipeline as it is", () => {
  it("Readable.from(pipeline): backpressure reaches the source, and destroy() tears the run down", async () => {
    const source = new CountingSource();
    let done = 0;
    const readable = Readable.from(pipe(source).map((x) => x, { maxsize: 2, onDone: () => void done++ }), { highWaterMark: 1 });
    const taken: number[] = [];
    for await (const x of readable) {
      taken.push(x as number);
      if (taken.length === 5) break; // for await over a Readable destroys it on break
    }
    await until(() => done === 1, "onDone after destroy");
    expect(source.finallyRan).toBe(1);
    // The source ran ahead of the 5 taken by at most the pipeline's bound plus the Readable's buffer.
    expect(source.pulls).toBeLessThanOrEqual(5 + 1 + 2 + 2 + 1 + 1);
  });

  it("stream.pipeline(pipeline, transform, writable): a slow writable slows the source; its error tears the run down", async () => {
    const source = new CountingSource();
    let done = 0;
    const written: string[] = [];
    let pullsAtTenth = -1;
    const boom = new Error("disk full");
    const writable = new Writable({
      objectMode: true,
      highWaterMark: 1,
      write(chunk: string, _encoding, callback) {
        written.push(chunk);
        if (written.length === 10) pullsAtTenth = source.pulls;
        if (written.length === 20) return callback(boom);
        setTimeout(callback, 1);
      },
    });
    const toLine = new Transform({
      objectMode: true,
      highWaterMark: 1,
      transform(x: number, _encoding, callback) {
        callback(null, `${x}\n`);
      },
    });
    await expect(
      streamPipeline(pipe(source).map((x) => x, { maxsize: 2, onDone: () => void done++ }), toLine, writable),
    ).rejects.toBe(boom);
    expect(pullsAtTenth).toBeLessThanOrEqual(10 + 12);
    await until(() => done === 1, "onDone after the writable failed");
    expect(source.finallyRan).toBe(1);
  });
});

describe("NDJSON over HTTP (examples/ndjson-server.ts)", () => {
  it("serves every record in order to a real request on 127.0.0.1", async () => {
    const lines: string[] = [];
    const result = await ndjsonMain((line) => lines.push(line), 25);
    expect(result.ids).toEqual([...range(25)].map((i) => i + 1));
    expect(result.finished).toBe(1);
    expect(lines).toEqual(["received 25 records as NDJSON (application/x-ndjson), ids 1..25"]);
  });

  it("a client that disconnects cancels the stream, and the run is torn down", async () => {
    const server = await startServer();
    try {
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${server.port}/?count=100000`, { signal: controller.signal });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await until(() => server.log.finished === 1, "the server's run to finish after the client left", 5_000);
    } finally {
      await server.close();
    }
    await tick();
    expect(unhandled).toEqual([]);
  });
});
