import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/packaging and test/browser run on their own: pnpm run test:packaging and
    // test:browser (see their vitest.config.ts).
    exclude: [...configDefaults.exclude, "test/packaging/**", "test/browser/**"],
    typecheck: {
      enabled: true,
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "./tsconfig.json",
    },
    testTimeout: 20_000,
    // The Redis of the @sluice/bullmq tests and the NATS of the @sluice/nats tests: REDIS_URL's
    // and NATS_URL's, or ones started for the run.
    globalSetup: ["test/helpers/redis-setup.ts", "test/helpers/nats-setup.ts"],
  },
});
