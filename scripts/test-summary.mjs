// Totals the vitest "Tests  N passed | M failed | K skipped" lines of a log
// (one per package run by turbo) into one closing line for CI. A test file can
// fail with every test passing (a failed hook, such as the event-loop guard's):
// such files count as failures too, so the closing line never says 0 failed
// for a run that failed.
import { readFileSync } from "node:fs";

// turbo prefixes each line with "<pkg>:test: " and may keep ANSI colours
const text = readFileSync(process.argv[2], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
let passed = 0, failed = 0, skipped = 0, runs = 0, failedFilesOnly = 0;
let pendingFailedFiles = 0;
for (const line of text.split("\n")) {
  const files = /\bTest Files\s+(.*)\(\d+\)\s*$/.exec(line);
  if (files) {
    pendingFailedFiles = Number(/(\d+)\s+failed/.exec(files[1])?.[1] ?? 0);
    continue;
  }
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  runs++;
  let runFailed = 0;
  for (const [, n, what] of m[1].matchAll(/(\d+)\s+(passed|failed|skipped|todo)/g)) {
    if (what === "passed") passed += Number(n);
    else if (what === "failed") runFailed += Number(n);
    else skipped += Number(n);
  }
  // files that failed without a failed test (vitest prints "Test Files" before "Tests")
  if (runFailed === 0 && pendingFailedFiles > 0) failedFilesOnly += pendingFailedFiles;
  failed += runFailed;
  pendingFailedFiles = 0;
}
console.log(`\nvitest runs: ${runs}`);
if (failedFilesOnly > 0) console.log(`test files that failed outside a test (hooks, the event-loop guard): ${failedFilesOnly}`);
console.log(`${passed} passed, ${failed + failedFilesOnly} failed, ${skipped} skipped`);
