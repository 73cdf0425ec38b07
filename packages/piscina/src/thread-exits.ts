import type { Worker } from "node:worker_threads";

/**
 * Resolves when every one of `threads` has exited. piscina terminates a thread without
 * waiting for it (after an abort, or when it removes a thread that failed); waiting here is
 * what lets a stage promise that no thread of its calls is still running when it settles.
 */
export async function threadsExited(threads: Iterable<Worker>): Promise<void> {
  const exits: Promise<void>[] = [];
  for (const thread of threads) {
    // Node sets threadId to -1 once a thread has exited; an exit event would not come again.
    if (thread.threadId !== -1) exits.push(new Promise((resolve) => thread.once("exit", () => resolve())));
  }
  await Promise.all(exits);
}
