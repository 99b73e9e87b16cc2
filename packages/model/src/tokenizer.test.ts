import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ModelConfigError, ModelError, ModelFileError, PromptTooLongError } from "./errors.js";
import { SPECIAL, tempDir, tinyTokenizerFiles } from "./testing/fixtures.js";
import { ModelTokenizer, checkPromptLength } from "./tokenizer.js";

async function tokenizerDir(extra: Record<string, unknown> = {}, files: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  const { tokenizerJson, tokenizerConfig } = tinyTokenizerFiles();
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tokenizerConfig, ...extra }));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

describe("ModelTokenizer", () => {
  it("encodes and decodes with byte-level BPE merges and special tokens", async () => {
    const tok = await ModelTokenizer.load(await tokenizerDir());
    expect(tok.encode("hello world")).toEqual([259, 264]);
    expect(tok.decode([259, 264])).toBe("hello world");
    const ids = tok.encode("héllo<|im_end|>");
    expect(ids.at(-1)).toBe(SPECIAL.imEnd);
    expect(tok.decode(ids)).toBe("héllo<|im_end|>");
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("héllo");
    expect(tok.tokenToId("<|im_start|>")).toBe(SPECIAL.imStart);
    expect(tok.idToToken(259)).toBe("hello");
    expect(tok.vocabSize).toBe(268);
    expect(tok.specialTokens).toEqual({ bos: null, eos: "<|im_end|>", pad: "<|endoftext|>", unk: null });
  });

  it("applies a Qwen-style chat template with and without the generation prompt", async () => {
    const tok = await ModelTokenizer.load(await tokenizerDir());
    const messages = [{ role: "user", content: "hello" }];
    expect(tok.applyChatTemplate(messages)).toBe(
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n",
    );
    const prompt = tok.applyChatTemplate([{ role: "system", content: "Be brief." }, ...messages], { addGenerationPrompt: true });
    expect(prompt).toBe("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n");
    const ids = tok.encodeChat(messages, { addGenerationPrompt: true });
    expect(ids[0]).toBe(SPECIAL.imStart);
    expect(ids.filter((i) => i === SPECIAL.imStart).length).toBe(3);
    expect(ids).toContain(259); // "hello" merged
    expect(tok.decode(ids)).toBe(tok.applyChatTemplate(messages, { addGenerationPrompt: true }));
  });

  it("prefers chat_template.jinja and supports named template lists", async () => {
    const fromFile = await ModelTokenizer.load(await tokenizerDir({}, { "chat_template.jinja": "{{ messages[0].content }}!" }));
    expect(fromFile.applyChatTemplate([{ role: "user", content: "x" }])).toBe("x!");
    const named = await ModelTokenizer.load(
      await tokenizerDir({ chat_template: [{ name: "tool_use", template: "T" }, { name: "default", template: "D{{ eos_token }}" }] }),
    );
    expect(named.applyChatTemplate([])).toBe("D<|im_end|>");
  });

  it("fails clearly without a template or on a template error", async () => {
    const none = await ModelTokenizer.load(await tokenizerDir({ chat_template: undefined }));
    expect(() => none.applyChatTemplate([])).toThrow(/no chat template/);
    const raising = await ModelTokenizer.load(await tokenizerDir({ chat_template: "{{ raise_exception('no system role') }}" }));
    expect(() => raising.applyChatTemplate([])).toThrow(ModelError);
    expect(() => raising.applyChatTemplate([])).toThrow(/chat template failed: .*no system role/);
  });

  it("unions eos ids from generation_config.json (number or list) with the tokenizer eos", async () => {
    const list = await ModelTokenizer.load(await tokenizerDir({}, { "generation_config.json": JSON.stringify({ eos_token_id: [SPECIAL.endoftext, SPECIAL.imEnd] }) }));
    expect(list.eosTokenIds.sort()).toEqual([SPECIAL.endoftext, SPECIAL.imEnd]);
    const single = await ModelTokenizer.load(await tokenizerDir({}, { "generation_config.json": JSON.stringify({ eos_token_id: SPECIAL.endoftext }) }));
    expect(single.eosTokenIds.sort()).toEqual([SPECIAL.endoftext, SPECIAL.imEnd]);
    expect(single.isEos(SPECIAL.endoftext)).toBe(true);
    expect(single.isEos(259)).toBe(false);
    const none = await ModelTokenizer.load(await tokenizerDir({ eos_token: { content: "<|endoftext|>", special: true } }));
    expect(none.eosTokenIds).toEqual([SPECIAL.endoftext]);
    const bad = tokenizerDir({}, { "generation_config.json": JSON.stringify({ eos_token_id: "x" }) });
    await expect(bad.then((d) => ModelTokenizer.load(d))).rejects.toThrow(ModelConfigError);
  });

  it("rejects prompts longer than the limit, naming both numbers", async () => {
    const tok = await ModelTokenizer.load(await tokenizerDir(), { contextLength: 10 });
    const messages = [{ role: "user", content: "hello" }];
    const n = tok.encodeChat(messages, { maxLength: 1000 }).length;
    expect(() => tok.encodeChat(messages)).toThrow(PromptTooLongError);
    expect(() => tok.encodeChat(messages)).toThrow(`prompt has ${n} tokens, more than the maximum of 10`);
    expect(() => tok.encodeChat(messages, { maxLength: n })).not.toThrow();
    expect(() => checkPromptLength(5, 4)).toThrow(/5 tokens.*maximum of 4/);
  });

  it("reports missing and invalid tokenizer files", async () => {
    const empty = await tempDir();
    await expect(ModelTokenizer.load(empty)).rejects.toThrow(ModelFileError);
    await expect(ModelTokenizer.load(empty)).rejects.toThrow(/tokenizer\.json: file not found/);
    await writeFile(join(empty, "tokenizer.json"), "[1,");
    await expect(ModelTokenizer.load(empty)).rejects.toThrow(/tokenizer\.json: invalid JSON/);
    await writeFile(join(empty, "tokenizer.json"), JSON.stringify({ model: { type: "BPE" } }));
    await expect(ModelTokenizer.load(empty)).rejects.toThrow(/tokenizer\.json: cannot build tokenizer/);
  });
});
