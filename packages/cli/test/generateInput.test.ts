// More ways in: generate --input (many prompts, chat messages or text), score from text, and score
// on a model folder without tokenizer files (token ids need none).
import { execFile } from "node:child_process";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

import { loadModelDir } from "@rlvr/model";

import { tempDir } from "../../model/src/testing/fixtures.js";
import { tinyModelDir } from "./helpers.js";

const cli = resolve(fileURLToPath(import.meta.url), "../../dist/cli.js");
const run = promisify(execFile);
const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);


describe("rlvr generate --input / score from text (built CLI)", () => {
  it("generate --input: n samples per prompt, prompt_index and the row's other fields on each line", async () => {
    const dir = await tinyModelDir();
    const input = join(await tempDir(), "prompts.jsonl");
    writeFileSync(input, `${JSON.stringify({ id: "a", prompt: "hello" })}\n${JSON.stringify({ id: "b", messages: [{ role: "user", content: "hi" }] })}\n`);
    const out = lines((await run("node", [cli, "generate", "--model", dir, "--input", input, "-n", "2", "--max-new-tokens", "4", "--seed", "1"])).stdout);
    expect(out.map((l) => [l.id, l.prompt_index, l.sample])).toEqual([["a", 0, 0], ["a", 0, 1], ["b", 1, 0], ["b", 1, 1]]);
    for (const l of out) expect((l.tokens as number[]).length).toBe((l.logprobs as number[]).length);
    const both = await run("node", [cli, "generate", "--model", dir, "--input", input, "--prompt", "x"]).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(both?.code).toBe(2);
    expect(both?.stderr).toMatch(/either --prompt TEXT or --input FILE/);
    writeFileSync(input, '{"id": 1}\n');
    await expect(run("node", [cli, "generate", "--model", dir, "--input", input])).rejects.toThrow(/prompts\.jsonl:1: expected \{"prompt"/);
  });

  it("score from text equals score of the same text's token ids; ids need no tokenizer files", async () => {
    const dir = await tinyModelDir();
    const tok = (await loadModelDir(dir)).tokenizer;
    const tmp = await tempDir();
    const text = join(tmp, "text.jsonl"), ids = join(tmp, "ids.jsonl");
    writeFileSync(text, `${JSON.stringify({ prompt: "hello there", response: " general" })}\n`);
    writeFileSync(ids, `${JSON.stringify({ prompt_ids: tok.encode("hello there"), response_ids: tok.encode(" general") })}\n`);
    const [a] = lines((await run("node", [cli, "score", "--model", dir, "--input", text])).stdout);
    const [b] = lines((await run("node", [cli, "score", "--model", dir, "--input", ids])).stdout);
    expect(a!.response_ids).toEqual(b!.response_ids);
    expect(a!.logprobs).toEqual(b!.logprobs);

    const bare = join(tmp, "bare");
    cpSync(dir, bare, { recursive: true });
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) rmSync(join(bare, f), { force: true });
    const [c] = lines((await run("node", [cli, "score", "--model", bare, "--input", ids])).stdout);
    expect(c!.logprobs).toEqual(b!.logprobs);
    await expect(run("node", [cli, "score", "--model", bare, "--input", text])).rejects.toThrow(/text\.jsonl gives text, which needs the model's tokenizer/);
  });
});
