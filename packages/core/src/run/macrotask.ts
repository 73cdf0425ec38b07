type Schedule = (callback: () => void) => void;

const host = globalThis as {
  setImmediate?: (callback: () => void) => unknown;
  performance?: { now(): number };
};

/**
 * Runs `callback` in a later macrotask, letting timers, I/O and abort handlers run first.
 * `setImmediate` where the host has it (Node, Bun), since `setTimeout(0)` is clamped to 1 ms.
 */
export const scheduleMacrotask: Schedule =
  typeof host.setImmediate === "function"
    ? (callback) => void host.setImmediate!(callback)
    : (callback) => void setTimeout(callback, 0);

/** Elements a reader hands over between two looks at the clock (docs/design.md §13). */
export const ELEMENTS_PER_MACROTASK = 1024;

/**
 * How long (ms) the engine may keep the event loop from turning before it yields. Timers,
 * I/O and a caller's abort wait at most about this long (plus one batch of elements).
 */
export const MAX_BUSY_MS = 2;

const now: () => number = typeof host.performance?.now === "function" ? () => host.performance!.now() : Date.now;

/** When the event loop was last seen to turn (a probe ran, or a reader resumed from a yield). */
let lastTurn = now();
let probePending = false;
const probe = (): void => {
  probePending = false;
  lastTurn = now();
};

/** A reader resumed in a new macrotask: the event loop has just turned. */
export function noteTurn(): void {
  lastTurn = now();
}

/**
 * Whether a reader that has handed over {@link ELEMENTS_PER_MACROTASK} elements should yield.
 * Only when the event loop has not turned for {@link MAX_BUSY_MS}: a pipeline waiting on real
 * I/O lets the loop turn by itself and needs no yields, and every yield is a loop turn that
 * costs time and runs whatever other code queued (docs/design.md §13). A probe scheduled as a
 * macrotask notices turns that happen for other reasons.
 */
export function shouldYield(): boolean {
  if (now() - lastTurn >= MAX_BUSY_MS) return true;
  if (!probePending) {
    probePending = true;
    scheduleMacrotask(probe);
  }
  return false;
}
