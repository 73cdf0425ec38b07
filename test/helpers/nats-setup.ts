/**
 * vitest globalSetup: the NATS server (with JetStream) the @sluice/nats tests run against.
 * With NATS_URL set (as .ci/run does), that server must answer; without it, a nats-server is
 * started on a free port for the length of the run and NATS_URL is set for the test files.
 * Either way a missing server fails the run: nothing is skipped.
 */
import type { TestProject } from "vitest/node";
import { startNats, waitForNats } from "../../scripts/nats-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    natsUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env["NATS_URL"];
  if (given !== undefined && given !== "") {
    await waitForNats(given);
    project.provide("natsUrl", given);
    return undefined;
  }
  const nats = await startNats();
  process.env["NATS_URL"] = nats.url;
  project.provide("natsUrl", nats.url);
  return () => nats.stop();
}
