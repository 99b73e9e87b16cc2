/**
 * KV-cache decoding vs full-sequence scoring: bitwise equality on CPU.
 * Greedy-decodes a padded batch (left- and right-padded prompts), then checks that
 * every decode logits row equals the corresponding row of a full forward over
 * [prompt, generated tokens], and that the log-prob of each generated token
 * computed from the decode logits (the fused logprob kernel) equals score()'s,
 * bit for bit. See native/src/ops/cpu/cpu_ops.h (and gemm.h) for why this holds.
 */
import { describe, expect, it } from "vitest";

import { Tensor, tokenLogprobs } from "@rlvr/native";

import { paddedBatch, rng, tinyEngine } from "./helpers.js";

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

function argmax(a: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[off + j]! > a[off + best]!) best = j;
  return best;
}

const CASES = [
  {
    // intermediate 600 / vocab 530 > the GEMM's K block (256): parked accumulators, ragged last panels
    name: "qwen2 tied, K-blocked GEMMs (intermediate 600, vocab 530)",
    cfg: { vocab_size: 530, hidden_size: 40, head_dim: 10, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 600 },
  },
  { name: "qwen2 tied, head_dim 12 (scalar dot), vocab 75", cfg: { vocab_size: 75, hidden_size: 48, head_dim: 12, intermediate_size: 40 } },
  {
    name: "llama untied, llama3 rope, head_dim 16, vocab 140",
    cfg: {
      architectures: ["LlamaForCausalLM"], model_type: "llama", use_sliding_window: undefined, vocab_size: 140,
      hidden_size: 32, head_dim: 16, num_attention_heads: 4, num_key_value_heads: 1, intermediate_size: 72,
      tie_word_embeddings: false,
      rope_scaling: { rope_type: "llama3", factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
    },
  },
  {
    // the decode path norms each new q / k head before RoPE and the cache, as the full forward does
    name: "qwen3 q/k norm, head_dim 16 (4 x 16 heads != hidden 32), vocab 90",
    cfg: {
      architectures: ["Qwen3ForCausalLM"], model_type: "qwen3", vocab_size: 90, hidden_size: 32, head_dim: 16,
      num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 56,
    },
  },
];

describe("decode == score, bitwise", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const e = tinyEngine(c.cfg, 11);
      const V = e.config.vocabSize;
      const B = 4, T = 9, S = 30, L = T + S;
      const p = paddedBatch(V, B, T, 5);
      const decodeLogits: Float32Array[] = [];
      const gen: Int32Array[] = [];
      let logits = await e.decode.prefill({ ...p, capacity: L });
      for (let s = 0; s < S; s++) {
        decodeLogits.push(logits);
        const tok = Int32Array.from({ length: B }, (_, b) => argmax(logits, b * V, V));
        gen.push(tok);
        if (s < S - 1) logits = await e.decode.step(tok);
      }
      // full sequences: prompt (with its padding) then the S - 1 fed tokens (the last one is only a target)
      const inputIds = new Int32Array(B * L), attentionMask = new Float32Array(B * L), targets = new Int32Array(B * L);
      const scoreMask = new Float32Array(B * L);
      const slotOf: number[][] = [];
      for (let b = 0; b < B; b++) {
        let last = -1;
        for (let t = 0; t < T; t++) {
          inputIds[b * L + t] = p.inputIds[b * T + t]!;
          attentionMask[b * L + t] = p.attentionMask[b * T + t]!;
          if (p.attentionMask[b * T + t]) last = t;
        }
        const slots = [last];
        for (let s = 0; s < S - 1; s++) {
          inputIds[b * L + T + s] = gen[s]![b]!;
          attentionMask[b * L + T + s] = 1;
          slots.push(T + s);
        }
        slotOf.push(slots);
        for (let s = 0; s < S; s++) {
          targets[b * L + slots[s]!] = gen[s]![b]!;
          scoreMask[b * L + slots[s]!] = 1;
        }
      }
      const full = { batch: B, length: L, inputIds, attentionMask, targets };
      const all = await e.logitsForTesting(full);
      e.setLmChunkRows(7);
      const tau = 0.6;
      const scored = await e.score({ ...full, scoreMask, temperature: tau });
      let compared = 0;
      for (let s = 0; s < S; s++) {
        const dl = decodeLogits[s]!;
        const lp = tokenLogprobs(Tensor.from(dl, [B, V]), Tensor.from(gen[s]!), { temperature: tau }).logp.toArray() as Float32Array;
        for (let b = 0; b < B; b++) {
          const r = b * L + slotOf[b]![s]!;
          expect(bits(dl.subarray(b * V, (b + 1) * V))).toEqual(bits(all.subarray(r * V, (r + 1) * V)));
          expect(Object.is(lp[b], scored.logp[r]), `b=${b} s=${s}: ${lp[b]} vs ${scored.logp[r]}`).toBe(true);
          compared++;
        }
      }
      expect(compared).toBe(B * S);
      e.decode.reset();
    });
  }
});

describe("prefill with repeated prompts (computed once, copied)", () => {
  it("rows with the same prompt get its cache and logits; each row then decodes as score() says, bitwise", async () => {
    const e = tinyEngine(CASES[0]!.cfg, 12);
    const V = e.config.vocabSize;
    const T = 9, S = 12, L = T + S, order = [0, 1, 0, 2, 1, 0];
    const base = paddedBatch(V, 3, T, 6);
    const B = order.length;
    const p = { batch: B, length: T, inputIds: new Int32Array(B * T), attentionMask: new Float32Array(B * T) };
    order.forEach((k, b) => {
      p.inputIds.set(base.inputIds.subarray(k * T, (k + 1) * T), b * T);
      p.attentionMask.set(base.attentionMask.subarray(k * T, (k + 1) * T), b * T);
    });
    // the distinct prompts alone give the same first logits, bit for bit
    const alone = await e.decode.prefill({ ...base, capacity: L });
    let logits = await e.decode.prefill({ ...p, capacity: L });
    order.forEach((k, b) => expect(bits(logits.subarray(b * V, (b + 1) * V))).toEqual(bits(alone.subarray(k * V, (k + 1) * V))));
    // rows of one prompt are fed different tokens, so each copy's cache is used on its own
    const fed: Int32Array[] = [];
    for (let s = 0; s < S; s++) {
      const tok = Int32Array.from({ length: B }, (_, b) => (argmax(logits, b * V, V) + b) % V);
      fed.push(tok);
      if (s < S - 1) logits = await e.decode.step(tok);
    }
    const last = logits;
    e.decode.reset();
    // the same sequences scored whole: the last step's logits row of each
    const inputIds = new Int32Array(B * L), attentionMask = new Float32Array(B * L);
    for (let b = 0; b < B; b++) {
      inputIds.set(p.inputIds.subarray(b * T, (b + 1) * T), b * L);
      attentionMask.set(p.attentionMask.subarray(b * T, (b + 1) * T), b * L);
      for (let s = 0; s < S - 1; s++) {
        inputIds[b * L + T + s] = fed[s]![b]!;
        attentionMask[b * L + T + s] = 1;
      }
    }
    const all = await e.logitsForTesting({ batch: B, length: L, inputIds, attentionMask });
    for (let b = 0; b < B; b++) {
      const r = b * L + T + S - 2;
      expect(bits(last.subarray(b * V, (b + 1) * V))).toEqual(bits(all.subarray(r * V, (r + 1) * V)));
    }
  });
});

describe("scorePrefixed (shared prompts run once)", () => {
  for (const tied of [true, false]) {
    it(`equals score() on the concatenated sequences bit for bit (tied ${tied})`, async () => {
      const e = tinyEngine({ tie_word_embeddings: tied }, 4);
      e.setLmChunkRows(5);
      const V = e.config.vocabSize;
      const r = rng(9);
      const tok = () => 1 + Math.floor(r() * (V - 1));
      // 3 prefixes (one left-padded), 5 continuations of different lengths
      const prefixes = [[tok(), tok(), tok(), tok()], [tok(), tok()], [tok(), tok(), tok()]];
      const P = 4;
      const pIds = new Int32Array(3 * P), pMask = new Float32Array(3 * P);
      pIds.set(prefixes[0]!, 0); pMask.fill(1, 0, 4);
      pIds.set(prefixes[1]!, P + 2); pMask.fill(1, P + 2, 2 * P); // left padding
      pIds.set(prefixes[2]!, 2 * P); pMask.fill(1, 2 * P, 2 * P + 3); // right padding
      const group = Int32Array.from([0, 1, 0, 2, 1]);
      const conts = [5, 3, 6, 1, 4].map((n) => Array.from({ length: n }, tok));
      const E = 6;
      const ids = new Int32Array(5 * E), mask = new Float32Array(5 * E), tg = new Int32Array(5 * E), sm = new Float32Array(5 * E);
      conts.forEach((c, i) => {
        ids.set(c, i * E);
        mask.fill(1, i * E, i * E + c.length);
        for (let t = 0; t + 1 < c.length; t++) { tg[i * E + t] = c[t + 1]!; sm[i * E + t] = 1; }
      });
      const got = await e.scorePrefixed({
        prefix: { batch: 3, length: P, inputIds: pIds, attentionMask: pMask }, group,
        batch: 5, length: E, inputIds: ids, attentionMask: mask, targets: tg, scoreMask: sm, temperature: 0.7,
      });
      // the same rows through score(): each sequence = its prefix's real tokens + its continuation
      for (const [i, c] of conts.entries()) {
        const seq = [...prefixes[group[i]!]!, ...c];
        const L = seq.length;
        const one = await e.score({
          batch: 1, length: L, inputIds: Int32Array.from(seq), attentionMask: new Float32Array(L).fill(1),
          targets: Int32Array.from(seq, (_, t) => seq[t + 1] ?? 0),
          scoreMask: Float32Array.from(seq, (_, t) => (t >= L - c.length && t < L - 1 ? 1 : 0)), temperature: 0.7,
        });
        const off = L - c.length;
        for (let t = 0; t + 1 < c.length; t++) {
          expect(got.logp[i * E + t]).toBe(one.logp[off + t]);
          expect(got.entropy[i * E + t]).toBe(one.entropy[off + t]);
        }
        for (let t = Math.max(0, c.length - 1); t < E; t++) expect(got.logp[i * E + t]).toBe(0);
      }
    });
  }

  it("errors name the argument", async () => {
    const e = tinyEngine();
    const x = {
      prefix: { batch: 1, length: 2, inputIds: Int32Array.from([1, 2]), attentionMask: Float32Array.from([1, 1]) },
      group: Int32Array.from([0]), batch: 1, length: 2, inputIds: Int32Array.from([3, 4]),
      attentionMask: Float32Array.from([1, 1]), targets: Int32Array.from([4, 0]),
    };
    await expect(e.scorePrefixed({ ...x, group: Int32Array.from([1]) })).rejects.toThrow(expect.objectContaining({ argument: "group" }));
    await expect(e.scorePrefixed({ ...x, prefix: { ...x.prefix, attentionMask: new Float32Array(2) } })).rejects.toThrow(
      expect.objectContaining({ argument: "prefixMask" }),
    );
    await expect(e.scorePrefixed({ ...x, group: Int32Array.from([0, 0]) })).rejects.toThrow(expect.objectContaining({ argument: "group" }));
  });
});
