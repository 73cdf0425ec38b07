// A throwaway nats-server with JetStream for tests and the bench: on a free port of
// 127.0.0.1, its store in its own temporary directory. Used by test/helpers/nats-setup.ts
// (vitest's globalSetup) and bench/src/scenario-n-nats.ts when NATS_URL is not set; .ci/run
// starts its own and sets NATS_URL. A missing nats-server is an error, never a reason to skip.
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

/** Resolves when the server at `url` greets a client with its INFO line; rejects after `limitMs`. */
export async function waitForNats(url, limitMs = 10_000) {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + limitMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      await new Promise((resolve, reject) => {
        const socket = connect(Number(port || 4222), hostname);
        socket.setTimeout(1000, () => socket.destroy(new Error("no answer")));
        socket.once("error", reject);
        socket.once("data", (data) => {
          socket.destroy();
          const text = data.toString();
          if (!text.startsWith("INFO ")) reject(new Error(`unexpected greeting ${JSON.stringify(text.slice(0, 80))}`));
          else if (!text.includes('"jetstream":true')) reject(new Error("the server runs without JetStream (start it with -js)"));
          else resolve();
        });
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`NATS at ${url} did not answer within ${limitMs} ms (${lastError?.message ?? "no attempt"})`);
}

/**
 * Starts nats-server with JetStream and resolves with its URL and a `stop()` that ends it
 * and removes its store. Rejects with an explanation when nats-server is not installed.
 */
export async function startNats() {
  const dir = mkdtempSync(join(tmpdir(), "sluice-nats-"));
  const port = await freePort();
  const child = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "-l", join(dir, "nats.log")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const failed = new Promise((_, reject) =>
    child.once("error", (error) =>
      reject(
        error.code === "ENOENT"
          ? new Error("nats-server is not installed: the @sluice/nats tests need it (Debian: apt-get install nats-server; .ci/run installs it)")
          : error,
      ),
    ),
  );
  const url = `nats://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([waitForNats(url), failed]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}
