// The README's example, run as written: a file next to this package's sources gets the code
// block verbatim, and is imported (so workspace imports resolve as they would for a user).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const tmp = mkdtempSync(join(pkg, ".readme-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("README example", () => {
  it("runs and prints four samples with a finish reason each", async () => {
    const readme = readFileSync(join(pkg, "README.md"), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "README.md has a ```ts block").toBeTruthy();
    // the block addresses the model relative to packages/: keep that true from the temp folder
    const file = join(tmp, "example.ts");
    writeFileSync(file, block!.replace('new URL("../mathworld/base", import.meta.url)', 'new URL("../../mathworld/base", import.meta.url)'));
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")));
    try {
      await import(file);
    } finally {
      log.mockRestore();
    }
    expect(lines).toHaveLength(4);
    for (const [i, l] of lines.entries()) expect(l).toMatch(new RegExp(`^${i} (eos|stop|length|context) ".*"$`));
  }, 60_000);
});
