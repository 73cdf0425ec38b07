import { afterEach, beforeEach } from "vitest";

/**
 * Records unhandled promise rejections while each test of the calling file runs, so a
 * test can assert that none escaped. Returns the live list.
 */
export function recordUnhandledRejections(): unknown[] {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => {
    seen.push(reason);
  };
  beforeEach(() => {
    seen.length = 0;
    process.on("unhandledRejection", listener);
  });
  afterEach(() => {
    process.off("unhandledRejection", listener);
  });
  return seen;
}
