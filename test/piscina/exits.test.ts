import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SCRIPT = fileURLToPath(new URL("./fixtures/run-and-exit.mjs", import.meta.url));

describe("nothing is left behind", () => {
  it("a process that ran pipelines on threads (success, crash, timeout, break, abort) exits by itself with no thread alive", async () => {
    const { stdout, code, signal } = await new Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      // A process kept alive by a leftover thread or handle is killed after 30 s, and fails here.
      const child = execFile(process.execPath, [SCRIPT], { timeout: 30_000 }, (_error, out) => {
        resolve({ stdout: out, code: child.exitCode, signal: child.signalCode });
      });
    });
    expect(signal).toBeNull();
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    expect(report).toEqual({
      owned: 50,
      ownedCrash: "ThreadError",
      ownedTimeout: "TimeoutError",
      ownedBreak: true,
      shared: [20, 20, 20],
      sharedAbort: "Error",
      liveBeforeDestroy: expect.any(Number),
      started: expect.any(Number),
      live: 0,
    });
    expect(report.started).toBeGreaterThanOrEqual(8);
  });
});
