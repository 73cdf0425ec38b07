/**
 * @sluice/bullmq at the edges of a run's life: a run torn down while its worker is still
 * starting leaves no timer behind, and a Redis that cannot be reached fails the run within
 * `connectTimeout` instead of retrying (and logging) forever.
 */
import { createServer } from "node:net";
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OptionsError, maxTimerDelay } from "@sluice/dsl";
import { ConnectionError, jobs } from "@sluice/bullmq";
import { connection, until } from "./support.js";

// ioredis ends a socket closed while connecting with a fallback timer (2 s) that the socket's
// close clears a moment later; BullMQ's stalled-job timer (30 s by default) outlived the run.
const noTimerLeft = (before: number) => until(() => timers() <= before, "the run's timers to be gone", 1_000);

const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

/** A local port nothing listens on: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("jobs(): a run torn down while starting", () => {
  it("leaves no timer of its worker behind, whenever in its first milliseconds it is aborted", async () => {
    const before = timers();
    const moments: Array<(abort: () => void) => void> = [
      (abort) => abort(),
      (abort) => queueMicrotask(abort),
      (abort) => setImmediate(abort),
      (abort) => setTimeout(abort, 1),
      (abort) => setTimeout(abort, 3),
      (abort) => setTimeout(abort, 10),
    ];
    const outcomes: string[] = [];
    for (const moment of moments) {
      const controller = new AbortController();
      const run = jobs(`start-up-${randomUUID()}`, { connection: connection() }).run({ signal: controller.signal });
      moment(() => controller.abort(new Error("early")));
      outcomes.push(await run.then(() => "resolved", (error: Error) => error.message));
    }
    expect(outcomes).toEqual(moments.map(() => "early"));
    await noTimerLeft(before);
  });
});

describe("jobs(): a Redis that cannot be reached", () => {
  it("fails the run within connectTimeout with a ConnectionError naming jobs() and the connection, reporting no retries", async () => {
    const port = await closedPort();
    const reported: Error[] = [];
    const before = timers();
    const error = await jobs("unreachable", {
      connection: { host: "127.0.0.1", port, maxRetriesPerRequest: null },
      connectTimeout: 200,
      endWhenDrained: true,
      onWorkerError: (e) => reported.push(e),
    })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const failure = error as ConnectionError;
    expect(failure.name).toBe("ConnectionError");
    expect(failure.message).toBe(
      `jobs(unreachable): could not connect to Redis at 127.0.0.1:${port} within 200 ms (options.connectTimeout); last error: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(failure.queueName).toBe("unreachable");
    expect(failure.connectTimeout).toBe(200);
    expect((failure.cause as { code?: string }).code).toBe("ECONNREFUSED");
    expect(reported).toEqual([]);
    // No retry goes on: what is left are ioredis's fallback timers for the sockets that
    // failed (its disconnectTimeout, 2 s), which end by themselves.
    await until(() => timers() <= before, "the retries to stop", 3_000);
  });

  it("checks connectTimeout like its other options", () => {
    // Past the longest timer, setTimeout would fire after 1 ms: a huge timeout would fail at once.
    for (const [bad, shown] of [[0, "0"], [-1, "-1"], [Number.NaN, "NaN"], [Infinity, "Infinity"], [2 ** 31, String(2 ** 31)], ["100", '"100"']] as const) {
      expect(() => jobs("q", { connection: connection(), connectTimeout: bad as never })).toThrow(
        new OptionsError(`jobs(): options.connectTimeout must be a number of milliseconds > 0 (at most ${maxTimerDelay}) (received ${shown})`),
      );
    }
  });
});
