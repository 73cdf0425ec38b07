// A throwaway nats-server with JetStream for tests and the bench: on a free port of
// 127.0.0.1, its store in its own temporary directory. Used by test/helpers/nats-setup.ts
// (vitest's globalSetup) and bench/src/scenario-n-nats.ts when NATS_URL is not set; .ci/run
// starts its own and sets NATS_URL. A missing nats-server is an error, never a reason to skip.
import { join } from "node:path";
import { startServer, waitForServer } from "./local-server.mjs";

/** Resolves when the server at `url` greets a client with its INFO line; rejects after `limitMs`. */
export function waitForNats(url, limitMs = 10_000) {
  return waitForServer(url, 4222, limitMs, `NATS at ${url} did not answer`, (socket, resolve, reject) => {
    socket.once("data", (data) => {
      socket.destroy();
      const text = data.toString();
      if (!text.startsWith("INFO ")) reject(new Error(`unexpected greeting ${JSON.stringify(text.slice(0, 80))}`));
      else if (!text.includes('"jetstream":true')) reject(new Error("the server runs without JetStream (start it with -js)"));
      else resolve();
    });
  });
}

/**
 * Starts nats-server with JetStream and resolves with its URL and a `stop()` that ends it
 * and removes its store. Rejects with an explanation when nats-server is not installed.
 */
export function startNats() {
  return startServer({
    binary: "nats-server",
    prefix: "sluice-nats-",
    scheme: "nats",
    argsFor: (port, dir) => ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "-l", join(dir, "nats.log")],
    ready: waitForNats,
    missing: "nats-server is not installed: the @sluice/nats tests need it (Debian: apt-get install nats-server; .ci/run installs it)",
  });
}
