import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The packaging test installs the packed packages into a project outside the workspace.
// It runs on its own (pnpm run test:packaging) so its npm, tsc and esbuild processes do not
// compete for the CPU with the timing-sensitive tests of the main suite.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/packaging/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
