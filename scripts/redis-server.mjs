// A throwaway redis-server for tests and the bench: on a free port of 127.0.0.1, in its own
// temporary directory, with no persistence. Used by test/helpers/redis-setup.ts (vitest's
// globalSetup) and bench/src/scenario-g-bullmq.ts when REDIS_URL is not set; .ci/run starts
// its own and sets REDIS_URL. A missing redis-server is an error, never a reason to skip.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (the OS picks it; it is free again when this resolves). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a PING on `url` is answered with PONG; rejects after `limitMs`. */
export async function waitForRedis(url, limitMs = 10_000) {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + limitMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      await new Promise((resolve, reject) => {
        const socket = connect(Number(port || 6379), hostname);
        socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
        socket.once("error", reject);
        socket.once("connect", () => socket.write("PING\r\n"));
        socket.once("data", (data) => {
          socket.destroy();
          if (data.toString().startsWith("+PONG")) resolve();
          else reject(new Error(`unexpected answer ${JSON.stringify(data.toString())}`));
        });
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`Redis at ${url} did not answer PING within ${limitMs} ms (${lastError?.message ?? "no attempt"})`);
}

/**
 * Starts redis-server and resolves with its URL and a `stop()` that ends it and removes its
 * directory. Rejects with an explanation when redis-server is not installed.
 */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-redis-"));
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const failed = new Promise((_, reject) =>
    child.once("error", (error) =>
      reject(
        error.code === "ENOENT"
          ? new Error("redis-server is not installed: the @sluice/bullmq tests need it (Debian: apt-get install redis-server; .ci/run installs it)")
          : error,
      ),
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([waitForRedis(url), failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
