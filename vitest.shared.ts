// Shared vitest settings: resolve workspace packages to their TypeScript sources
// (the "source" export condition) so tests never depend on a stale dist/.
// Every test file runs under the event-loop guard (packages/testing/src/loopGuard.ts).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: [fileURLToPath(new URL("./packages/testing/src/loopGuard.ts", import.meta.url))],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
