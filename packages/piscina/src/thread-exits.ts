import type { Worker } from "node:worker_threads";
import type { Piscina } from "piscina";

/** What is known of a followed pool's threads. */
interface Followed {
  /** Threads piscina has let go of (terminated after an abort, removed after a failure) that have not exited yet. */
  readonly stopping: Set<Worker>;
  /** Per thread seen: resolves once it has loaded the worker module, or exited. */
  readonly loaded: WeakMap<Worker, Promise<void>>;
}

const followed = new WeakMap<Piscina, Followed>();

// The message a piscina thread posts once it has loaded the worker module (piscina's READY).
const READY = "_WORKER_READY";

/**
 * Starts following `pool`'s threads (once per pool): which are stopping, and, with
 * `loading` (a pool created just now, whose threads cannot have loaded yet), which have
 * loaded the worker module. piscina emits `workerDestroy` while the thread is still in
 * `pool.threads`, just before forgetting it, and starts any replacement right after.
 */
export function followStoppingThreads(pool: Piscina, loading = false): void {
  if (followed.has(pool)) return;
  const state: Followed = { stopping: new Set(), loaded: new WeakMap() };
  followed.set(pool, state);
  const sweep = () => {
    if (loading) for (const thread of pool.threads) watchLoading(state, thread);
  };
  sweep();
  pool.on("workerDestroy", (destroyed: { readonly id: number }) => {
    for (const thread of pool.threads) {
      if (thread.threadId !== destroyed.id || thread.threadId === -1) continue;
      state.stopping.add(thread);
      thread.once("exit", () => state.stopping.delete(thread));
    }
    // The replacement, if any, is created after this event: see it once that is done.
    queueMicrotask(sweep);
  });
}

function watchLoading(state: Followed, thread: Worker): void {
  if (state.loaded.has(thread) || thread.threadId === -1) return;
  state.loaded.set(
    thread,
    new Promise<void>((resolve) => {
      const onMessage = (message: unknown) => {
        if (message !== null && typeof message === "object" && READY in message) done();
      };
      const done = () => {
        thread.off("message", onMessage);
        thread.off("exit", done);
        resolve();
      };
      thread.on("message", onMessage);
      thread.once("exit", done);
    }),
  );
}

/**
 * Resolves once every current thread of `pool` (followed) has loaded the worker module or
 * exited. Node 20 can abort the whole process when a thread is terminated in the middle of
 * loading an ES module through `require()`, which piscina tries first; a stage that owns its
 * pool therefore never terminates a thread before it has loaded.
 */
export async function loadedThreads(pool: Piscina): Promise<void> {
  const state = followed.get(pool);
  if (state === undefined) return;
  const waits: Promise<void>[] = [];
  for (const thread of pool.threads) {
    const loaded = state.loaded.get(thread);
    if (loaded !== undefined) waits.push(loaded);
  }
  if (waits.length === 0) return;
  // Bounded, should a piscina release stop posting READY: then this is only a pause.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, LOAD_WAIT_MS);
  });
  try {
    await Promise.race([Promise.all(waits), bound]);
  } finally {
    clearTimeout(timer);
  }
}

// How long a stage waits at most for its threads to load the worker module.
const LOAD_WAIT_MS = 10_000;

/** Resolves when every thread `pool` has let go of has exited. */
export function stoppedThreads(pool: Piscina): Promise<void> {
  const stopping = followed.get(pool)?.stopping;
  return stopping === undefined || stopping.size === 0 ? Promise.resolve() : threadsExited(stopping);
}

/** How many threads `pool` has let go of that have not exited yet. */
export function stoppingCount(pool: Piscina): number {
  return followed.get(pool)?.stopping.size ?? 0;
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
