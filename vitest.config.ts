import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["functions/**/*.test.ts", "shared/**/*.test.ts", "cli/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["dist/**", "node_modules/**"],
    // Integration tests start real servers (Azurite, a Cosmos-protocol server, an OCI registry):
    // give them room, but never so much that a hung server stalls CI for long.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]]
  }
});
