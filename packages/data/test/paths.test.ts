import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { requireSharedPath, sharedDir, sharedPath, writeFileAtomic } from "../src/index.js";
import { tempDir } from "./helpers.js";

const saved = process.env.RLVR_SHARED_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.RLVR_SHARED_DIR;
  else process.env.RLVR_SHARED_DIR = saved;
});

describe("shared data paths", () => {
  it("RLVR_SHARED_DIR wins; a missing folder gives null and a helpful error", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "datasets", "eval"), { recursive: true });
    process.env.RLVR_SHARED_DIR = dir;
    expect(sharedDir()).toBe(dir);
    expect(sharedPath("datasets", "eval")).toBe(join(dir, "datasets", "eval"));
    expect(sharedPath("datasets", "nope")).toBeNull();
    expect(() => requireSharedPath("datasets", "nope")).toThrow(`${join(dir, "datasets", "nope")} not found`);
    process.env.RLVR_SHARED_DIR = join(dir, "missing");
    expect(sharedDir()).toBeNull();
    expect(() => requireSharedPath("datasets")).toThrow(/set RLVR_SHARED_DIR/);
  });

  it("without RLVR_SHARED_DIR it is shared/ beside the repository root, when present", () => {
    delete process.env.RLVR_SHARED_DIR;
    const found = sharedDir();
    if (found !== null) expect(found).toMatch(/[/\\]shared$/);
  });
});

describe("writeFileAtomic", () => {
  it("replaces the file whole and leaves no temporary file", () => {
    const dir = tempDir();
    const file = join(dir, "sub", "a.txt");
    writeFileAtomic(file, "one");
    writeFileAtomic(file, "two");
    expect(readFileSync(file, "utf8")).toBe("two");
    expect(readdirSync(join(dir, "sub"))).toEqual(["a.txt"]);
    writeFileSync(join(dir, "blocker"), "");
    expect(() => writeFileAtomic(join(dir, "blocker", "x"), "y")).toThrow();
  });
});
