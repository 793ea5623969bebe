// Chromium for tests: the same binary and loopback flags as browser students (src/agents/browser).
export { CHROMIUM, CHROMIUM_ARGS, STUDENT_ARGS, chromiumUnavailable } from "../../src/agents/browser/chromium-flags.js";
