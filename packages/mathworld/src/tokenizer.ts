// The math world's tokenizer: a byte-level BPE (the GPT-2/Qwen scheme, so any text round-trips)
// whose merges are learned from the world's own text. No merge touches a digit, so every digit
// is its own token (multi-digit arithmetic stays learnable). Special tokens and a Qwen-style
// chat template make it a drop-in for @rlvr/model's ModelTokenizer.
import { EVAL_SYSTEM_PROMPT, INSTRUCTION, randomProblem, userContent } from "./generator.js";
import { Rng } from "./rng.js";

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

/**
 * Qwen-style ChatML template. Unlike Qwen2.5's, no default system message is inserted when the
 * chat has none (the world's prompts stay short); a given system message is rendered as usual.
 */
export const CHAT_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** GPT-2's byte → printable character table, as byte-level BPE vocabularies use. */
export function byteChars(): string[] {
  const chars: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    chars.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  return chars;
}

/** The ByteLevel pre-tokenizer's split (GPT-2 pattern). */
const PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function pretokens(text: string, table: readonly string[]): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PRETOKEN)) {
    const bytes = Buffer.from(m[0], "utf8");
    out.push(Array.from(bytes, (b) => table[b]!).join(""));
  }
  return out;
}

const DIGIT = /[0-9]/;

export interface BpeOptions {
  /** Most merges to learn (default 400). */
  maxMerges?: number;
  /** Stop when the best pair occurs fewer times than this (default 8). */
  minCount?: number;
}

/**
 * Learns byte-level BPE merges from `texts` (greedy: the most frequent adjacent pair, ties by
 * the pair's text), never merging a symbol that contains a digit.
 */
export function learnMerges(texts: readonly string[], o: BpeOptions = {}): [string, string][] {
  const table = byteChars();
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of pretokens(t, table)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const words = [...freq].map(([w, n]) => ({ syms: [...w], n }));
  const merges: [string, string][] = [];
  const maxMerges = o.maxMerges ?? 400;
  const minCount = o.minCount ?? 8;
  while (merges.length < maxMerges) {
    const counts = new Map<string, number>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const a = syms[i]!, b = syms[i + 1]!;
        if (DIGIT.test(a) || DIGIT.test(b)) continue;
        const key = `${a}\u0000${b}`;
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    }
    let best: string | null = null;
    let bestN = 0;
    for (const [k, n] of counts) if (n > bestN || (n === bestN && best !== null && k < best)) [best, bestN] = [k, n];
    if (best === null || bestN < minCount) break;
    const [a, b] = best.split("\u0000") as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const s = w.syms;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(s[i]!);
      }
      w.syms = out;
    }
  }
  return merges;
}

/** Text the merges are learned from: seeded problems and solutions, chat roles, the prompts' fixed parts. */
export function tokenizerCorpus(seed = 0, problems = 4000): string[] {
  const r = new Rng((seed ^ 0x70c0ffee) >>> 0);
  const texts = ["system\n", "user\n", "assistant\n", INSTRUCTION, EVAL_SYSTEM_PROMPT];
  for (let i = 0; i < problems; i++) {
    const p = randomProblem(r);
    texts.push("user\n", userContent(p), "assistant\n", p.solution);
    if (i % 5 === 0) texts.push("system\n", EVAL_SYSTEM_PROMPT);
  }
  return texts;
}

export interface TokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** tokenizer.json + tokenizer_config.json of the math world (deterministic). */
export function buildTokenizerFiles(o: BpeOptions & { modelMaxLength?: number } = {}): TokenizerFiles {
  const table = byteChars();
  const vocab: Record<string, number> = {};
  table.forEach((c, i) => (vocab[c] = i));
  const merges = learnMerges(tokenizerCorpus(), o);
  for (const [a, b] of merges) if (vocab[a + b] === undefined) vocab[a + b] = Object.keys(vocab).length;
  const base = Object.keys(vocab).length;
  const special = (content: string, id: number) => ({
    id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizerJson: {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, base + i)),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false, use_regex: false },
      decoder: byteLevel,
      model: {
        type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
        fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
      },
    },
    tokenizerConfig: {
      add_bos_token: false,
      add_prefix_space: false,
      bos_token: null,
      eos_token: "<|im_end|>",
      pad_token: "<|endoftext|>",
      unk_token: null,
      errors: "replace",
      model_max_length: o.modelMaxLength ?? 512,
      chat_template: CHAT_TEMPLATE,
      clean_up_tokenization_spaces: false,
      split_special_tokens: false,
      tokenizer_class: "Qwen2Tokenizer",
    },
  };
}

/** The files as saveCheckpoint takes them (name → content). */
export function tokenizerFileMap(files: TokenizerFiles = buildTokenizerFiles()): Record<string, string> {
  return {
    "tokenizer.json": JSON.stringify(files.tokenizerJson, null, 1) + "\n",
    "tokenizer_config.json": JSON.stringify(files.tokenizerConfig, null, 2) + "\n",
  };
}
