// Totals the vitest "Tests  N passed | M failed | K skipped" lines of a log
// (one per package run by turbo) into one closing line for CI.
import { readFileSync } from "node:fs";

// turbo prefixes each line with "<pkg>:test: " and may keep ANSI colours
const text = readFileSync(process.argv[2], "utf8").replace(/\x1b\[[0-9;]*m/g, "");
let passed = 0, failed = 0, skipped = 0, runs = 0;
for (const line of text.split("\n")) {
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  runs++;
  for (const [, n, what] of m[1].matchAll(/(\d+)\s+(passed|failed|skipped|todo)/g)) {
    if (what === "passed") passed += Number(n);
    else if (what === "failed") failed += Number(n);
    else skipped += Number(n);
  }
}
console.log(`\nvitest runs: ${runs}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
