// A throwaway redis-server for tests and the bench: on a free port of 127.0.0.1, in its own
// temporary directory, with no persistence. Used by test/helpers/redis-setup.ts (vitest's
// globalSetup) and bench/src/scenario-g-bullmq.ts when REDIS_URL is not set; .ci/run starts
// its own and sets REDIS_URL. A missing redis-server is an error, never a reason to skip.
import { startServer, waitForServer } from "./local-server.mjs";

/** Resolves when a PING on `url` is answered with PONG; rejects after `limitMs`. */
export function waitForRedis(url, limitMs = 10_000) {
  return waitForServer(url, 6379, limitMs, `Redis at ${url} did not answer PING`, (socket, resolve, reject) => {
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      if (data.toString().startsWith("+PONG")) resolve();
      else reject(new Error(`unexpected answer ${JSON.stringify(data.toString())}`));
    });
  });
}

/**
 * Starts redis-server and resolves with its URL and a `stop()` that ends it and removes its
 * directory. Rejects with an explanation when redis-server is not installed.
 */
export function startRedis() {
  return startServer({
    binary: "redis-server",
    prefix: "sluice-redis-",
    scheme: "redis",
    argsFor: (port, dir) => ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning"],
    ready: waitForRedis,
    missing: "redis-server is not installed: the @sluice/bullmq tests need it (Debian: apt-get install redis-server; .ci/run installs it)",
  });
}
