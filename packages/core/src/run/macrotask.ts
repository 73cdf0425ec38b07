type Schedule = (callback: () => void) => void;

const host = globalThis as { setImmediate?: (callback: () => void) => unknown };

/**
 * Runs `callback` in a later macrotask, letting timers, I/O and abort handlers run first.
 * `setImmediate` where the host has it (Node, Bun), since `setTimeout(0)` is clamped to 1 ms.
 */
export const scheduleMacrotask: Schedule =
  typeof host.setImmediate === "function"
    ? (callback) => void host.setImmediate!(callback)
    : (callback) => void setTimeout(callback, 0);

/** Elements a source hands over before it lets the event loop run (docs/design.md §13). */
export const ELEMENTS_PER_MACROTASK = 1024;
