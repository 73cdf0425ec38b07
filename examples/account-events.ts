// Per-entity ordered processing of a NATS JetStream stream: events about many accounts, each
// account's events applied in the order they were published, different accounts in parallel,
// at most 16 calls at once in all. The account comes from the subject (`<stream>.account.<id>`)
// and is the stage's `key` (per-key order). The run stops with a drain: once every event is
// applied, or on SIGTERM, it takes no more messages, finishes and acknowledges those it holds,
// gives back those it fetched ahead, and resolves.
// Run: npx -y pnpm@10 examples && node examples/dist/account-events.js
// (nats-server with JetStream at NATS_URL, default nats://127.0.0.1:4222)
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { messages } from "@sluice/nats";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The account an event is about: the last token of its subject. */
const accountOf = (subject: string) => subject.slice(subject.lastIndexOf(".") + 1);

export async function main(
  log: (line: string) => void = console.log,
  { servers = process.env["NATS_URL"] ?? "nats://127.0.0.1:4222", stream = "accounts", accounts = 20, perAccount = 10 } = {},
): Promise<{ applied: number; inOrder: boolean; mostAtOnce: number }> {
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.account.*`] });
  await jsm.consumers.add(stream, { durable_name: "ledger", ack_policy: "explicit", max_ack_pending: 256 });
  const js = jetstream(nc);
  for (let n = 0; n < perAccount; n++) {
    for (let account = 0; account < accounts; account++) await js.publish(`${stream}.account.${account}`, JSON.stringify({ n }));
  }

  const lastApplied = new Map<string, number>();
  const busy = new Set<string>(); // accounts with a call running: a second one would break the order
  let inOrder = true;
  let running = 0;
  let mostAtOnce = 0;
  let applied = 0;
  const total = accounts * perAccount;
  const drain = new AbortController();
  const onSigterm = () => drain.abort();
  process.once("SIGTERM", onSigterm);
  try {
    await messages({ stream, name: "ledger" }, { connection: { servers } })
      .map(
        async (message) => {
          const account = accountOf(message.subject);
          const { n } = message.json<{ n: number }>();
          if (busy.has(account)) inOrder = false;
          busy.add(account);
          mostAtOnce = Math.max(mostAtOnce, ++running);
          await sleep(1 + (n % 3)); // the work: a stand-in for a database write
          if (n !== (lastApplied.get(account) ?? -1) + 1) inOrder = false;
          lastApplied.set(account, n);
          busy.delete(account);
          running--;
        },
        {
          workers: 16,
          key: (message) => accountOf(message.subject), // per-key order: one account's calls one at a time, in stream order
        },
      )
      .each(() => {
        if (++applied === total) drain.abort();
      })
      .run({ drain: drain.signal });
  } finally {
    process.off("SIGTERM", onSigterm);
    await jsm.streams.delete(stream);
    await nc.close();
  }
  log(`applied ${applied} events of ${accounts} accounts, each account's in order: ${inOrder}, at most ${mostAtOnce} at once`);
  return { applied, inOrder, mostAtOnce };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
