import { afterAll, beforeAll } from "vitest";

type Host = Record<"setTimeout" | "clearTimeout" | "setInterval" | "clearInterval", (...args: any[]) => unknown> & {
  setImmediate?: (...args: any[]) => unknown;
  clearImmediate?: (handle: unknown) => void;
};

/**
 * Counts the timers (timeouts, intervals, immediates) created while the calling file's tests run
 * and not yet fired or cleared, so a test can assert that a run leaves none behind. It wraps the
 * global timer functions, which sluice looks up at each call, instead of asking the process
 * (`process.getActiveResourcesInfo()` is Node's; Bun's returns an empty list), so the count is
 * the same in Node, Deno and Bun. Returns the live count.
 */
export function trackTimers(): () => number {
  const host = globalThis as unknown as Host;
  const live = new Set<unknown>();
  const saved = { ...host };
  const once = (set: (...args: any[]) => unknown) =>
    function (callback: (...args: unknown[]) => void, ...rest: unknown[]): unknown {
      const handle: unknown = set((...args: unknown[]) => {
        live.delete(handle);
        callback(...args);
      }, ...rest);
      live.add(handle);
      return handle;
    };
  const clear = (cancel: (handle: unknown) => unknown) => (handle: unknown) => {
    live.delete(handle);
    cancel(handle);
  };
  beforeAll(() => {
    live.clear();
    host.setTimeout = once(saved.setTimeout);
    host.clearTimeout = clear(saved.clearTimeout);
    host.setInterval = function (callback: () => void, ...rest: unknown[]): unknown {
      const handle = saved.setInterval(callback, ...rest);
      live.add(handle);
      return handle;
    };
    host.clearInterval = clear(saved.clearInterval);
    if (saved.setImmediate !== undefined && saved.clearImmediate !== undefined) {
      host.setImmediate = once(saved.setImmediate);
      host.clearImmediate = clear(saved.clearImmediate);
    }
  });
  afterAll(() => {
    Object.assign(host, {
      setTimeout: saved.setTimeout,
      clearTimeout: saved.clearTimeout,
      setInterval: saved.setInterval,
      clearInterval: saved.clearInterval,
      setImmediate: saved.setImmediate,
      clearImmediate: saved.clearImmediate,
    });
  });
  return () => live.size;
}
