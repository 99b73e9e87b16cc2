import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEvalBenchmark } from "../src/index.js";
import { tempDir } from "./helpers.js";

describe("math500 subject and level", () => {
  it("are read when the rows carry them, and left out otherwise", () => {
    const file = join(tempDir(), "test.jsonl");
    const rows = [
      { problem: "p1", answer: "1", subject: "Precalculus", level: 2, unique_id: "a" },
      { problem: "p2", answer: "2", subject: "Algebra", level: "Level 5", unique_id: "b" },
      { problem: "p3", answer: "3", unique_id: "c" },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n"));
    const got = loadEvalBenchmark("math500", file);
    expect(got.map((e) => [e.subject, e.level])).toEqual([["Precalculus", 2], ["Algebra", 5], [undefined, undefined]]);
    expect("subject" in got[2]!).toBe(false);
  });
});
