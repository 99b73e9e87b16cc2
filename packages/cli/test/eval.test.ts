import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";

import {
  buildEvalReport,
  evalMarkdown,
  loadEvalFile,
  resolveBenchmarkFile,
  type EvalReport,
  type EvalSetResult,
} from "@rlvr/trainer";

import { tempDir } from "../../model/src/testing/fixtures.js";
import { tinyModelDir as tinyEvalModelDir } from "./helpers.js";
import { buildProgram } from "../src/cli.js";
import { evalCommand } from "../src/commands/eval.js";

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

// the Qwen template + the qwen25-math-cot system prompt is ~150 byte-level tokens
const tinyModelDir = () => tinyEvalModelDir({ max_position_embeddings: 320 });

/** A custom {problem, answer} benchmark and an aime24-shaped one. */
async function tinyBenchmarks(): Promise<{ dir: string; mine: string; aime: string }> {
  const dir = await tempDir();
  const mine = join(dir, "mine.jsonl");
  writeFileSync(mine, [{ problem: "1+1", answer: "2" }, { problem: "2*3", answer: 6, id: "q2" }, { question: "9-7", answer: "2" }].map((r) => JSON.stringify(r)).join("\n") + "\n");
  const aime = join(dir, "aime.jsonl");
  writeFileSync(aime, [{ id: 60, problem: "3+4", answer: "7" }, { id: 61, problem: "5+5", answer: "10" }].map((r) => JSON.stringify(r)).join("\n") + "\n");
  return { dir, mine, aime };
}

async function runCli(args: string[], tty = false): Promise<{ stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture(tty);
  await evalCommand({ stdout, stderr }).parseAsync(args, { from: "user" });
  return { stdout: stdout.text, stderr: stderr.text };
}

const savedEnv = process.env.RLVR_SHARED_DIR;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.RLVR_SHARED_DIR;
  else process.env.RLVR_SHARED_DIR = savedEnv;
});

describe("rlvr eval", () => {
  it("is registered on the program", () => {
    expect(buildProgram().commands.map((c) => c.name())).toContain("eval");
  });

  it("writes JSON and Markdown, with greedy pass@1 for custom sets and avg@k for aime24", async () => {
    const model = await tinyModelDir();
    const { dir, mine, aime } = await tinyBenchmarks();
    const out = join(dir, "out");
    const { stdout, stderr } = await runCli(["--model", model, "--file", `mine=${mine}`, "--file", `aime24=${aime}`, "--max-tokens", "6", "--k", "3", "--seed", "5", "--out", out]);

    const report = JSON.parse(readFileSync(join(out, "eval.json"), "utf8")) as EvalReport;
    const md = readFileSync(join(out, "eval.md"), "utf8");
    expect(stdout).toBe(md);
    expect(report.benchmarks.map((b) => b.name)).toEqual(["mine", "aime24"]);
    expect(report.maxTokens).toBe(6);
    expect(report.seed).toBe(5);
    expect(report.systemPrompt).toBe("Please reason step by step, and put your final answer within \\boxed{}.");

    const [m, a] = report.benchmarks as [EvalReport["benchmarks"][0], EvalReport["benchmarks"][0]];
    expect(m.protocol).toMatchObject({ temperature: 0, topP: 1, samples: 1, label: "greedy pass@1" });
    expect(a.protocol).toMatchObject({ temperature: 0.6, topP: 1, samples: 3, label: "avg@3 (T=0.6, top-p=1)" });
    expect(m.n).toBe(3);
    expect(a.n).toBe(2);
    expect(m.total).toBe(3);
    expect(a.total).toBe(6);
    expect(m.problems.map((p) => p.id)).toEqual(["0", "q2", "2"]);
    expect(a.problems.map((p) => p.id)).toEqual(["60", "61"]);
    expect(m.problems.map((p) => p.gold)).toEqual(["2", "6", "2"]);
    for (const b of report.benchmarks) {
      expect(b.skipped).toBe(0);
      expect(b.responseLength.count).toBe(b.total);
      expect(b.responseLength.max).toBeLessThanOrEqual(6);
      expect(b.accuracy).toBe(b.correct / b.total);
      expect(b.correct).toBe(b.problems.reduce((s, p) => s + p.correct, 0));
      for (const p of b.problems) {
        expect(p.samples).toBe(b.protocol.samples);
        expect(p.responses).toHaveLength(b.protocol.samples);
        expect(Object.keys(p.reflection)).toEqual(report.reflectionWords);
        expect(p.extracted).toBe(p.responses[0]!.extracted);
        for (const r of p.responses) {
          expect(r.tokens).toBeGreaterThan(0);
          expect(r.text).toBeUndefined(); // only with --save-responses
        }
      }
    }
    expect(report.average).toBeCloseTo((m.accuracy + a.accuracy) / 2, 12);
    expect(md).toContain("| mine | greedy pass@1 | 3 |");
    expect(md).toContain("| aime24 | avg@3 (T=0.6, top-p=1) | 2 |");
    expect(md).toMatch(/\| \*\*Average\*\* \| \| \| \*\*\d+\.\d\*\* \|/);
    // progress: plain lines off a TTY
    expect(stderr).toContain("mine: generated 3/3 responses");
    expect(stderr).toContain("aime24: generated 6/6 responses");
    expect(stderr).toContain(`wrote ${join(out, "eval.json")}`);
    expect(stderr).not.toContain("\x1b[K");
  });

  it("grades with qwen-math by default and with --grader boxed on request; an unknown grader is refused", async () => {
    const model = await tinyModelDir();
    const { dir, mine } = await tinyBenchmarks();
    for (const [flags, grader] of [[[], "qwen-math"], [["--grader", "boxed"], "boxed"]] as const) {
      const out = join(dir, grader);
      await runCli(["--model", model, "--file", `mine=${mine}`, "--max-tokens", "4", "--out", out, ...flags]);
      const report = JSON.parse(readFileSync(join(out, "eval.json"), "utf8")) as EvalReport;
      expect(report.grader).toBe(grader);
      expect(readFileSync(join(out, "eval.md"), "utf8")).toContain(`Grader: ${grader}.`);
    }
    await expect(runCli(["--model", model, "--file", `mine=${mine}`, "--grader", "qwen"])).rejects.toThrow(/--grader: unknown grader "qwen"/);
  });

  it("same seed, same responses; --protocol and the sampling flags override the defaults; a bar on a TTY", async () => {
    const model = await tinyModelDir();
    const { dir, mine, aime } = await tinyBenchmarks();
    const args = ["--model", model, "--file", `mine=${mine}`, "--file", `aime24=${aime}`, "--max-tokens", "5", "--save-responses"];
    await runCli([...args, "--out", join(dir, "a"), "--k", "2"]);
    const { stderr } = await runCli([...args, "--out", join(dir, "b"), "--k", "2"], true);
    const read = (sub: string) => JSON.parse(readFileSync(join(dir, sub, "eval.json"), "utf8")) as EvalReport;
    const texts = (r: EvalReport) => r.benchmarks.map((b) => b.problems.map((p) => p.responses.map((s) => s.text)));
    expect(texts(read("b"))).toEqual(texts(read("a")));
    expect(stderr).toContain("\r\x1b[K");
    expect(stderr).toMatch(/mine \[#+\.*\] 3\/3 responses \d+ tok\/s/); // drawn from the decode steps' token counts

    await runCli([...args, "--out", join(dir, "c"), "--protocol", "mine=avg@2", "--protocol", "aime24=greedy", "--temperature", "0.9", "--top-p", "0.5"]);
    const c = read("c");
    expect(c.benchmarks[0]!.protocol).toMatchObject({ temperature: 0.9, topP: 0.5, samples: 2 });
    expect(c.benchmarks[1]!.protocol).toMatchObject({ temperature: 0, topP: 1, samples: 1 });
    expect(c.benchmarks[0]!.problems[0]!.responses).toHaveLength(2);

    await runCli([...args, "--out", join(dir, "d"), "--bench", "aime24", "--limit", "1", "--no-system"]);
    const d = read("d");
    expect(d.benchmarks.map((b) => [b.name, b.n])).toEqual([["aime24", 1], ["mine", 1]]);
    expect(d.benchmarks[0]!.protocol.samples).toBe(8); // the paper's avg@8
    expect(d.systemPrompt).toBe("");
    expect(d.limit).toBe(1);
  });

  it("counts reflection words per response, per problem and per benchmark; the average is the unweighted mean", () => {
    const ex = (id: string) => ({ id, problem: "p", answer: "1", source: "syn" });
    const sample = (text: string, correct: boolean, tokens = 10) => ({ text, tokens, finishReason: "eos" as const, correct, extracted: correct ? "1" : "2" });
    const sampled: EvalSetResult = {
      name: "syn", protocol: { temperature: 0.6, topP: 1, samples: 2 }, accuracy: 0.5, correct: 2, total: 4, seconds: 1,
      problems: [
        { example: ex("a"), promptTokens: 5, skipped: false, samples: [sample("Let me recheck. Recheck again, then verify: \\boxed{1}", true, 20), sample("Wait, let me rethink. \\boxed{2}", false, 30)] },
        { example: ex("b"), promptTokens: 5, skipped: false, samples: [sample("\\boxed{1}", true), sample("Re-check verified", false)] },
      ],
    };
    const greedy: EvalSetResult = {
      name: "g", protocol: { temperature: 0, topP: 1, samples: 1 }, accuracy: 1, correct: 1, total: 1, seconds: 1,
      problems: [{ example: ex("c"), promptTokens: 5, skipped: false, samples: [sample("I should double  check: \\boxed{1}", true)] }],
    };
    const report = buildEvalReport([sampled, greedy], { model: "m", systemPrompt: "", maxTokens: 30, seed: 0, limit: null, responses: true });
    expect(report.average).toBe(0.75);
    const [s, g] = report.benchmarks;
    expect(s!.problems[0]).toMatchObject({ id: "a", score: 0.5, correct: 1, samples: 2, extracted: "1", responseTokens: 25 });
    expect(s!.problems[0]!.reflection).toMatchObject({ recheck: 2, verify: 1, rethink: 1, recalculate: 0 });
    expect(s!.problems[0]!.responses.map((r) => r.reflection)).toEqual([3, 1]);
    expect(s!.problems[0]!.responses[0]!.text).toContain("Recheck again");
    expect(s!.problems[1]!.reflection).toMatchObject({ recheck: 0, verify: 0 }); // whole words only by default
    expect(s!.reflection).toMatchObject({ total: 4, responsesWithReflection: 2, responses: 4 });
    expect(s!.responseLength).toMatchObject({ count: 4, mean: 17.5, max: 30, clippedFraction: 0.25 });
    expect(g!.reflection.counts["double check"]).toBe(1);
    const md = evalMarkdown(report);
    expect(md).toContain("| syn | avg@2 (T=0.6, top-p=1) | 2 | 50.0 |");
    expect(md).toContain("| g | greedy pass@1 | 1 | 100.0 |");
    expect(md).toContain("| **Average** | | | **75.0** |");
    expect(md).toContain("| syn | 4 | 50.0 | 1 | 2 | 0 |");

    // a configurable list, with inflections
    const custom = buildEvalReport([sampled], { model: "m", systemPrompt: "", maxTokens: 30, seed: 0, limit: null, reflection: { words: ["verify", "wait"], inflections: true } });
    expect(custom.reflectionWords).toEqual(["verify", "wait"]);
    expect(custom.benchmarks[0]!.reflection.counts).toEqual({ verify: 2, wait: 1 });
    expect(custom.benchmarks[0]!.problems[1]!.reflection).toEqual({ verify: 1, wait: 0 });
  });

  it("names the benchmark, where it looked and the fix when the data is missing", async () => {
    const model = await tinyModelDir();
    const missing = join(await tempDir(), "no-such-dir");
    await expect(runCli(["--model", model, "--bench", "math500", "--data-dir", missing])).rejects.toThrow(
      new RegExp(`math500: --data-dir ${missing} does not exist; point at a copy with --data-dir DIR .*--file math500=PATH`),
    );
    const empty = await tempDir();
    expect(() => resolveBenchmarkFile("aime24", empty)).toThrow(`looked for ${join(empty, "datasets", "eval", "aime24", "test.jsonl")}`);
    process.env.RLVR_SHARED_DIR = missing;
    await expect(runCli(["--model", model, "--bench", "amc23"])).rejects.toThrow(
      `amc23: shared data folder not found (looked for ${missing}, RLVR_SHARED_DIR); point at a copy with --data-dir DIR`,
    );
    await expect(runCli(["--model", model, "--bench", "gsm8k"])).rejects.toThrow(/unknown benchmark "gsm8k".*--file gsm8k=PATH/);
    await expect(runCli(["--model", model, "--file", `x=${missing}.jsonl`])).rejects.toThrow(`x: benchmark file ${missing}.jsonl not found`);
    await expect(runCli(["--model", model, "--file", `aime24=${missing}.jsonl`])).rejects.toThrow(`aime24: benchmark file ${missing}.jsonl not found`);
  });

  it("--data-dir accepts the shared folder or its datasets/eval folder", async () => {
    const root = await tempDir();
    const { aime } = await tinyBenchmarks();
    const { mkdirSync, copyFileSync } = await import("node:fs");
    mkdirSync(join(root, "datasets", "eval", "aime24"), { recursive: true });
    copyFileSync(aime, join(root, "datasets", "eval", "aime24", "test.jsonl"));
    const expected = join(root, "datasets", "eval", "aime24", "test.jsonl");
    expect(resolveBenchmarkFile("aime24", root)).toBe(expected);
    expect(resolveBenchmarkFile("aime24", join(root, "datasets", "eval"))).toBe(expected);
  });

  it("reads {problem, answer} and verl rows; errors name the file, line and field", async () => {
    const dir = await tempDir();
    const verl = join(dir, "verl.jsonl");
    writeFileSync(verl, JSON.stringify({
      data_source: "mathworld", prompt: [{ role: "user", content: "Solve 2x = 4." }], ability: "math",
      reward_model: { ground_truth: "2", style: "rule" }, extra_info: { index: 7, split: "test" },
    }) + "\n");
    expect(loadEvalFile("mw", verl)).toEqual([{ id: "7", problem: "Solve 2x = 4.", answer: "2", source: "mw" }]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"problem":"1+1","answer":"2"}\n\n{"problem":"2+2"}\n');
    expect(() => loadEvalFile("mine", bad)).toThrow(`${bad}:3: missing field "answer" (the mine gold answer)`);
    writeFileSync(bad, '{"problem":"1+1",\n');
    expect(() => loadEvalFile("mine", bad)).toThrow(`${bad}:1: invalid JSON`);
  });
});
