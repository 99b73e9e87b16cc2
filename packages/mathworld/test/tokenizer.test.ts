import { describe, expect, it } from "vitest";

import { ModelTokenizer } from "@rlvr/model";

import { CHAT_TEMPLATE, Rng, buildTokenizerFiles, randomProblem, userContent } from "../src/index.js";

const files = buildTokenizerFiles();
const tok = new ModelTokenizer(files.tokenizerJson, files.tokenizerConfig);

describe("math world tokenizer", () => {
  it("is deterministic and small", () => {
    expect(buildTokenizerFiles()).toEqual(files);
    expect(tok.vocabSize).toBeLessThan(600);
    for (const s of ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) expect(tok.tokenToId(s)).toBeDefined();
    expect(tok.eosTokenIds).toEqual([tok.tokenToId("<|im_end|>")]);
    expect(tok.chatTemplate).toBe(CHAT_TEMPLATE);
  });

  it("round-trips generated problems and solutions (encode → decode)", () => {
    const r = new Rng(9);
    for (let i = 0; i < 300; i++) {
      const p = randomProblem(r);
      for (const text of [userContent(p), p.solution, `${p.solution}<|im_end|>`]) {
        expect(tok.decode(tok.encode(text, { addSpecialTokens: false }))).toBe(text);
      }
    }
    // any text round-trips (byte-level)
    const odd = "Ünïcode ∑ 1/2 — \\frac{3}{4}\n\ttabs";
    expect(tok.decode(tok.encode(odd))).toBe(odd);
  });

  it("every digit is its own token", () => {
    const ids = tok.encode("The answer is \\boxed{12345}. 987 + 60 = 1047.", { addSpecialTokens: false });
    const pieces = ids.map((id) => tok.idToToken(id)!);
    for (const piece of pieces) if (/[0-9]/.test(piece)) expect(piece.replace("Ġ", "")).toMatch(/^[0-9]$/);
    expect(pieces.filter((p) => /[0-9]/.test(p))).toHaveLength(14);
  });

  it("renders the Qwen-style chat template", () => {
    const text = tok.applyChatTemplate([{ role: "user", content: "Solve for x: x + 1 = 3." }], { addGenerationPrompt: true });
    expect(text).toBe("<|im_start|>user\nSolve for x: x + 1 = 3.<|im_end|>\n<|im_start|>assistant\n");
    const ids = tok.encodeChat([{ role: "system", content: "S" }, { role: "user", content: "U" }]);
    expect(tok.decode(ids)).toBe("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n");
    expect(ids.filter((i) => i === tok.tokenToId("<|im_start|>"))).toHaveLength(2);
  });
});
