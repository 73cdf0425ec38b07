import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The Chromium page test (pnpm run test:browser) runs on its own, like test/packaging, so the
// browser does not compete for the CPU with the timing-sensitive tests of the main suite.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/browser/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
