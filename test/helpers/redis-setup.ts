/**
 * vitest globalSetup: the Redis the @sluice/bullmq tests run against. With REDIS_URL set
 * (as .ci/run does), that server must answer; without it, a redis-server is started on a
 * free port for the length of the run and REDIS_URL is set for the test files. Either way a
 * missing Redis fails the run: nothing is skipped.
 */
import type { TestProject } from "vitest/node";
import { startRedis, waitForRedis } from "../../scripts/redis-server.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env["REDIS_URL"];
  if (given !== undefined && given !== "") {
    await waitForRedis(given);
    project.provide("redisUrl", given);
    return undefined;
  }
  const redis = await startRedis();
  process.env["REDIS_URL"] = redis.url;
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}
