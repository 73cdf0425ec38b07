// Stand-in: messages of a durable queue, each carrying records, acknowledged one by one.
interface Message {
  body: { records: { valid: boolean; payload: string }[] };
  ack(): Promise<void>;
  nack(): Promise<void>;
}
declare const messages: AsyncIterable<Message>;
