// What the throwaway servers of the tests and the bench share (scripts/redis-server.mjs,
// scripts/nats-server.mjs): a free port of 127.0.0.1, a temporary directory, a child process
// that a missing binary turns into a clear error, polling until the server answers, and a
// stop() that ends it and removes its directory.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (the OS picks it; it is free again when this resolves). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Retries `probe(socket, resolve, reject)` on fresh connections to `url` until it resolves;
 * rejects after `limitMs` with `what` and the last problem.
 */
export async function waitForServer(url, defaultPort, limitMs, what, probe) {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + limitMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      await new Promise((resolve, reject) => {
        const socket = connect(Number(port || defaultPort), hostname);
        socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
        socket.once("error", reject);
        probe(socket, resolve, reject);
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${what} within ${limitMs} ms (${lastError?.message ?? "no attempt"})`);
}

/**
 * Starts `binary` with `argsFor(port, dir)` on a free port and a temporary directory named
 * from `prefix`, waits with `ready(url)`, and resolves with `{ url, stop }`. `missing` is the
 * message when the binary is not installed.
 */
export async function startServer({ binary, prefix, scheme, argsFor, ready, missing }) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const port = await freePort();
  const child = spawn(binary, argsFor(port, dir), { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const failed = new Promise((_, reject) => child.once("error", (error) => reject(error.code === "ENOENT" ? new Error(missing) : error)));
  const url = `${scheme}://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([ready(url), failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
