import { defineConfig } from "vitest/config";

// Integration tests run real werift peers, ffmpeg, influxd and Chromium on a 2-core machine:
// files run one at a time with generous timeouts so timing-sensitive assertions are not starved.
const json = process.env.PROCTOR_VITEST_JSON;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    reporters: json ? ["default", ["json", { outputFile: json }]] : ["default"],
  },
});
