import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { describe, expectTypeOf, it } from "vitest";
import { pipe, type Operator, type Pipeline } from "@sluice/dsl";
import { messageIdFor, messages, publish, type ConsumerName, type MessageOrigin, type MessageSourceOptions, type PublishOptions } from "@sluice/nats";

declare const js: JetStreamClient;
const connection = { servers: "127.0.0.1:4222" };
const consumer: ConsumerName = { stream: "orders", name: "billing" };
type Invoice = { total: number };

describe("@sluice/nats types", () => {
  it("messages() is a Pipeline of JetStream messages", () => {
    expectTypeOf(messages(consumer, { connection })).toEqualTypeOf<Pipeline<JsMsg>>();
    expectTypeOf(messages(consumer, { connection }).map((m) => m.json<{ id: string }>().id)).toEqualTypeOf<Pipeline<string>>();
  });

  it("messages() options: retryDelay is a number or a function of the delivery count", () => {
    expectTypeOf<{ connection: typeof connection; retryDelay: (count: number) => number }>().toExtend<MessageSourceOptions>();
    expectTypeOf<{ connection: typeof connection; prefetch: 8; connectTimeout: 1_000; retryDelay: 50 }>().toExtend<MessageSourceOptions>();
    // @ts-expect-error: a connection is required
    messages(consumer, { prefetch: 8 });
    // @ts-expect-error: not an option
    messages(consumer, { connection, prefech: 8 });
    // @ts-expect-error: the consumer is { stream, name }
    messages("orders", { connection });
  });

  it("publish() is an Operator to never whose origin is a message or a string", () => {
    const sink = publish(js, "invoices", { origin: (x: { message: JsMsg; invoice: Invoice }) => x.message, data: (x) => JSON.stringify(x.invoice) });
    expectTypeOf(sink).toEqualTypeOf<Operator<{ message: JsMsg; invoice: Invoice }, never>>();
    expectTypeOf(pipe([{ id: "a" }]).through(publish(js, (row) => `rows.${row.id}`, { origin: (row) => row.id }))).toEqualTypeOf<Pipeline<never>>();
    expectTypeOf<JsMsg>().toExtend<MessageOrigin>();
    expectTypeOf<PublishOptions<number>["origin"]>().toEqualTypeOf<(value: number) => MessageOrigin>();
    // @ts-expect-error: data gives a string or bytes
    publish(js, "s", { origin: (x: number) => String(x), data: (x) => x });
    // @ts-expect-error: an origin is required
    publish(js, "s", {});
    expectTypeOf(messageIdFor).returns.toEqualTypeOf<string>();
  });
});
