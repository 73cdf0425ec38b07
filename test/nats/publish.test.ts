/**
 * @sluice/nats publish(): a sink whose message ids make a second publish of the same element
 * (its source message delivered again) a duplicate the stream drops.
 */
import { OptionsError, pipe } from "@sluice/dsl";
import { messageIdFor, messages, publish } from "@sluice/nats";
import { describe, expect, it } from "vitest";
import { client, connection, durable, fill, freshStream, until } from "./support.js";

async function stored(stream: string): Promise<number> {
  const { jsm } = await client();
  return (await jsm.streams.info(stream)).state.messages;
}

describe("publish()", () => {
  it("a source message taken again gives the same ids: the stream stores each derived message once", async () => {
    const input = await freshStream("input");
    const output = await freshStream("output");
    await fill(input, 10);
    const { js } = await client();
    // Two consumers of the same stream: the second run sees the same messages again, as a redelivery would.
    for (const name of ["first", "second"]) {
      const consumer = await durable(input, name);
      const controller = new AbortController();
      let published = 0;
      const run = messages(consumer, { connection: connection() })
        .flatMap((message) => [0, 1].map((part) => ({ message, part })))
        .through(publish(js, (x) => `${output}.part${x.part}`, { origin: (x) => x.message, data: (x) => `${x.message.string()}:${x.part}` }))
        .run({ signal: controller.signal });
      const { jsm } = await client();
      await until(async () => (published = (await jsm.consumers.info(input, name)).ack_floor.stream_seq) === 10, `${name}: 10 acked`);
      controller.abort(new Error("done"));
      await expect(run).rejects.toThrow("done");
      expect(published).toBe(10);
    }
    expect(await stored(output)).toBe(20);
    const { jsm } = await client();
    const last = await jsm.streams.getMessage(output, { last_by_subj: `${output}.part1` });
    expect(last?.string()).toBe("9:1");
    expect(last?.header.get("Nats-Msg-Id")).toBe(`${input}/10/${output}.part1/1`);
  });

  it("a string origin names elements of other sources; data defaults to the element, as JSON unless a string", async () => {
    const output = await freshStream("plain");
    const { js, jsm } = await client();
    const rows = [{ id: "a", n: 1 }, { id: "b", n: 2 }];
    for (let run = 0; run < 2; run++) {
      await pipe(rows).through(publish(js, `${output}.rows`, { origin: (row) => `row-${row.id}` })).run();
    }
    expect(await stored(output)).toBe(2);
    const first = await jsm.streams.getMessage(output, { seq: 1 });
    expect(first?.json()).toEqual({ id: "a", n: 1 });
    expect(first?.header.get("Nats-Msg-Id")).toBe(`row-a/${output}.rows`);
  });

  it("messageIdFor escapes / and % so that different sources never share an id", () => {
    expect(messageIdFor({ info: { stream: "orders", streamSequence: 17 } }, "invoices.created", [2, 0])).toBe("orders/17/invoices.created/2.0");
    expect(messageIdFor("a/b", "x", [])).toBe("a%2Fb/x");
    expect(messageIdFor("a%2Fb", "x", [])).toBe("a%252Fb/x");
  });

  it("checks its options when the pipeline is built", async () => {
    const { js } = await client();
    expect(() => publish(js, "", { origin: () => "x" })).toThrow(new OptionsError('publish(): subject must be a non-empty string or a function (received "")'));
    expect(() => publish(js, "s", { origin: "x" as never })).toThrow(/publish\(\): options\.origin must be a function/);
    expect(() => publish(js, "s", { origin: () => "x", workers: 0 })).toThrow(/publish\(\): options\.workers must be an integer >= 1/);
  });
});
