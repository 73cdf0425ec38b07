import type { Worker } from "node:worker_threads";
import type { Piscina } from "piscina";

// Per pool: the threads piscina has let go of (terminated after an abort, or removed after a
// failure) that have not exited yet. piscina does not wait for them; a stage that must not
// leave work running after it settles does.
const stoppingThreads = new WeakMap<Piscina, Set<Worker>>();

/**
 * Starts following which of `pool`'s threads are stopping (once per pool). piscina emits
 * `workerDestroy` while the thread is still in `pool.threads`, just before forgetting it.
 */
export function followStoppingThreads(pool: Piscina): void {
  if (stoppingThreads.has(pool)) return;
  const stopping = new Set<Worker>();
  stoppingThreads.set(pool, stopping);
  pool.on("workerDestroy", (destroyed: { readonly id: number }) => {
    for (const thread of pool.threads) {
      if (thread.threadId !== destroyed.id || thread.threadId === -1) continue;
      stopping.add(thread);
      thread.once("exit", () => stopping.delete(thread));
    }
  });
}

/** Resolves when every thread `pool` has let go of has exited. */
export function stoppedThreads(pool: Piscina): Promise<void> {
  const stopping = stoppingThreads.get(pool);
  return stopping === undefined || stopping.size === 0 ? Promise.resolve() : threadsExited(stopping);
}

/** How many threads `pool` has let go of that have not exited yet. */
export function stoppingCount(pool: Piscina): number {
  return stoppingThreads.get(pool)?.size ?? 0;
}

/** Resolves when every one of `threads` has exited. */
export async function threadsExited(threads: Iterable<Worker>): Promise<void> {
  const exits: Promise<void>[] = [];
  for (const thread of threads) {
    // Node sets threadId to -1 once a thread has exited; an exit event would not come again.
    if (thread.threadId !== -1) exits.push(new Promise((resolve) => thread.once("exit", () => resolve())));
  }
  await Promise.all(exits);
}
