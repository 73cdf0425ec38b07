// Per-key order on a BullMQ queue: each account's events are applied in the order they were
// queued, different accounts in parallel, with one cap on calls in flight (what BullMQ's
// paid "groups" give). A job is completed only once its event has been applied.
// Run: npx -y pnpm@10 examples && node examples/dist/per-account-queue.js
// (Redis at REDIS_URL, default redis://127.0.0.1:6379)
import { fileURLToPath } from "node:url";
import { Queue, type ConnectionOptions } from "bullmq";
import { jobs } from "@sluice/bullmq";
import { connectionFor } from "./queue-producer.js";

/** One event about one account: the `seq`-th change of its balance. */
export interface AccountEvent {
  readonly account: string;
  readonly seq: number;
  readonly amount: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function main(
  log: (line: string) => void = console.log,
  {
    connection = connectionFor(),
    queueName = "account-events",
    accounts = 6,
    eventsPerAccount = 10,
    workers = 4,
  }: { connection?: ConnectionOptions; queueName?: string; accounts?: number; eventsPerAccount?: number; workers?: number } = {},
): Promise<{ applied: number; inOrder: boolean; mostInFlight: number; sameAccountOverlaps: number; balances: Record<string, number> }> {
  // The producer's side: the events of all accounts, interleaved.
  const queue = new Queue<AccountEvent>(queueName, { connection });
  try {
    const events: AccountEvent[] = [];
    for (let seq = 1; seq <= eventsPerAccount; seq++) {
      for (let a = 0; a < accounts; a++) events.push({ account: `acct-${a}`, seq, amount: seq * 10 });
    }
    await queue.addBulk(events.map((data) => ({ name: "event", data })));
  } finally {
    await queue.close();
  }

  // The consumer's side: `key` keeps each account's events in order; `workers` caps them all.
  const balances: Record<string, number> = {};
  const lastSeq = new Map<string, number>();
  const busy = new Set<string>();
  let inOrder = true;
  let inFlight = 0;
  let mostInFlight = 0;
  let sameAccountOverlaps = 0;
  let applied = 0;
  await jobs<AccountEvent>(queueName, { connection, prefetch: 32, endWhenDrained: true })
    .each(
      async (job) => {
        const { account, seq, amount } = job.data;
        if (busy.has(account)) sameAccountOverlaps++;
        busy.add(account);
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        if (seq !== (lastSeq.get(account) ?? 0) + 1) inOrder = false;
        await sleep(10); // the work: a stand-in for a call to the account's ledger
        balances[account] = (balances[account] ?? 0) + amount;
        lastSeq.set(account, seq);
        applied++;
        inFlight--;
        busy.delete(account);
      },
      { workers, key: (job) => job.data.account },
    )
    .run();
  log(`applied ${applied} events of ${accounts} accounts, each account in order: ${inOrder}, at most ${mostInFlight} at once`);
  return { applied, inOrder, mostInFlight, sameAccountOverlaps, balances };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
