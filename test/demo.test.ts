import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The demo as a user runs it, built by `pnpm build` (which `pnpm test` runs first), without a terminal.
const MAIN = fileURLToPath(new URL("../demo/dist/main.js", import.meta.url));

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout, child);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the pnpm start demo", () => {
  it("runs to its summary without a terminal, with plain progress lines, and exits 0 by itself", async () => {
    const { code, stdout, stderr } = await runDemo(["--count", "15", "--workers", "8"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^sluice fetch: 15\/15 \(100%\)  in flight 0  waiting 0/m);
    expect(stdout).not.toMatch(/\x1b\[/); // no escape codes when stdout is not a terminal
    const count = (name: string) => Number(new RegExp(`^  ${name} +(\\d+)`, "m").exec(stdout)?.[1]);
    expect(count("done") + count("failed") + count("timed out")).toBe(15);
    expect(stdout).toMatch(/delivered in id order/);
    expect(stdout).toMatch(/^  speed-up +\d+(\.\d)?x/m);
  });

  it("Ctrl-C (SIGINT) aborts the run, still prints the summary, and exits 0", async () => {
    let sent = false;
    const { code, stdout } = await runDemo(["--count", "5000"], (text, child) => {
      if (!sent && /^sluice fetch: \d+\/5000/m.test(text)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(sent).toBe(true);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Summary \(Ctrl-C: the run was aborted through its AbortSignal/m);
    expect(stdout).toMatch(/cancelled or never requested/);
    expect(stdout).toMatch(/^  speed-up +- +not measured/m);
  });

  it.each([
    [["--count", "abc"], '--count must be an integer from 1 to 1000000 (received "abc")'],
    [["--workers", "0"], '--workers must be an integer from 1 to 1000 (received "0")'],
    [["--count"], "--count needs a value, as in --count 100"],
    [["--verbose"], "unknown flag --verbose"],
    [["now"], 'unexpected argument "now"'],
  ])("%j prints what is wrong and exits 2", async (args, message) => {
    const { code, stdout, stderr } = await runDemo(args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`sluice demo: ${message}\nRun it with --help to see the options.\n`);
  });

  it("--help prints the usage and exits 0", async () => {
    const { code, stdout } = await runDemo(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: pnpm start \[--count N\] \[--workers N\]/);
    expect(stdout).toMatch(/--workers N/);
  });
});
