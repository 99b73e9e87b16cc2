// Issue #17 items 11 and 14: tokenizer and chat-template failures name their file, and a
// template's work is bounded (a 10^8-iteration loop used to spin for minutes).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Template } from "@huggingface/jinja";
import { renderBounded, TEMPLATE_LIMITS } from "./chatTemplate.js";
import { ModelFileError } from "./errors.js";
import { tempDir, tinyTokenizerFiles } from "./testing/fixtures.js";
import { ModelTokenizer } from "./tokenizer.js";

async function tokenizerDir(extra: Record<string, unknown> = {}, files: Record<string, string> = {}, json?: unknown): Promise<string> {
  const dir = await tempDir();
  const { tokenizerJson, tokenizerConfig } = tinyTokenizerFiles();
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(json ?? tokenizerJson));
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify({ ...tokenizerConfig, ...extra }));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  return expect.unreachable("no error") as never;
}

const user = [{ role: "user", content: "hi" }];

describe("tokenizer models", () => {
  it("a Unigram tokenizer.json is refused on load, naming the file and the supported models", async () => {
    // it used to load and then fail on the first encode with "text is not iterable"
    const unigram = { version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null,
      model: { type: "Unigram", unk_id: 0, vocab: [["<unk>", 0], ["a", -1], ["b", -2]] } };
    const dir = await tokenizerDir({}, {}, unigram);
    const err = await ModelTokenizer.load(dir).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toBe(
      `${join(dir, "tokenizer.json")}: tokenizer model type "Unigram" (field "model.type") is not supported; ` +
        `supported: BPE (the tokenizers of Qwen2 and Llama models)`,
    );
  });

  it("a tokenizer.json without a model says so", async () => {
    const dir = await tokenizerDir({}, {}, { version: "1.0" });
    await expect(ModelTokenizer.load(dir)).rejects.toThrow(/tokenizer\.json: field "model" is missing/);
  });
});

describe("chat template errors name the file", () => {
  it("a template that does not parse names chat_template.jinja", async () => {
    const dir = await tokenizerDir({}, { "chat_template.jinja": "{% for m in messages %}{{ m.content }" });
    const tok = await ModelTokenizer.load(dir);
    const err = errorOf(() => tok.applyChatTemplate(user));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toMatch(new RegExp(`^${join(dir, "chat_template.jinja").replace(/[.\\]/g, "\\$&")}: chat template does not parse: .*; fix the template$`));
  });

  it("a template that raises names tokenizer_config.json when the template is there", async () => {
    const dir = await tokenizerDir({ chat_template: "{{ raise_exception('no system role') }}" });
    const tok = await ModelTokenizer.load(dir);
    expect(errorOf(() => tok.applyChatTemplate(user)).message).toMatch(
      new RegExp(`^${join(dir, "tokenizer_config.json").replace(/[.\\]/g, "\\$&")}: chat template failed: no system role; fix or replace the template$`),
    );
  });
});

describe("chat template work is bounded", () => {
  it("a 10^8-iteration loop over range() fails fast, naming the file and the limit", async () => {
    const dir = await tokenizerDir({}, { "chat_template.jinja": "{% for i in range(100000000) %}x{% endfor %}" });
    const tok = await ModelTokenizer.load(dir);
    const err = errorOf(() => tok.applyChatTemplate(user));
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.message).toContain(join(dir, "chat_template.jinja"));
    expect(err.message).toMatch(/range\(\) of 100000000 items, more than the limit of 100000/);
  });

  it("a loop that runs too long stops at the step limit", async () => {
    // at the range() cap, so only the step limit stops it
    const dir = await tokenizerDir({}, { "chat_template.jinja": `{% for i in range(${TEMPLATE_LIMITS.maxRange}) %}{{ i }}{% endfor %}` });
    const tok = await ModelTokenizer.load(dir);
    expect(errorOf(() => tok.applyChatTemplate(user)).message).toMatch(
      new RegExp(`chat_template\\.jinja: chat template failed: more than ${TEMPLATE_LIMITS.maxSteps} evaluation steps`),
    );
  });

  it("nested loops of 10^4 x 10^4 (loop bodies without expressions count too)", () => {
    const t = new Template("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}");
    expect(() => renderBounded(t, {}, { ...TEMPLATE_LIMITS, maxSteps: 5_000 })).toThrow(/more than 5000 evaluation steps/);
  });

  it("a template that builds a huge string stops at the length limit", async () => {
    const dir = await tokenizerDir({}, {
      "chat_template.jinja": "{% set ns = namespace(s='xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') %}{% for i in range(30) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
    });
    const tok = await ModelTokenizer.load(dir);
    expect(errorOf(() => tok.applyChatTemplate(user)).message).toMatch(/a string of \d+ characters, more than the limit of 10000000/);
  });

  it("the limits are per render and the interpreter is restored: normal templates still work after a failure", async () => {
    const tok = await ModelTokenizer.load(await tokenizerDir());
    const before = tok.applyChatTemplate(user, { addGenerationPrompt: true });
    const bad = await ModelTokenizer.load(await tokenizerDir({}, { "chat_template.jinja": "{% for i in range(1000000) %}{% endfor %}" }));
    expect(() => bad.applyChatTemplate(user)).toThrow(ModelFileError);
    for (let i = 0; i < 3; i++) expect(tok.applyChatTemplate(user, { addGenerationPrompt: true })).toBe(before);
    // range() still behaves as jinja's: start, stop, step
    const ranged = await ModelTokenizer.load(await tokenizerDir({}, { "chat_template.jinja": "{{ range(5)|join(',') }};{{ range(2, 8, 3)|join(',') }};{{ range(5, 0, -2)|join(',') }}" }));
    expect(ranged.applyChatTemplate([])).toBe("0,1,2,3,4;2,5;5,3,1");
  });
});
