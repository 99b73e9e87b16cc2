// A byte-level BPE tokenizer that covers every id of a model's vocabulary, for models made from a
// config alone (`rlvr init`): a random-weight model samples ids from the whole vocabulary, so every
// id must decode. Its merges are synthetic (byte pairs, then pair + byte), not learned: any text
// still round-trips, through bytes.
import { byteChars, CHAT_TEMPLATE, SPECIAL_TOKENS } from "@rlvr/mathworld";

export interface SyntheticTokenizer {
  /** tokenizer.json and tokenizer_config.json, as saveCheckpoint takes them. */
  files: Record<string, string>;
  /** Id of each special token (<|endoftext|>, <|im_start|>, <|im_end|>). */
  special: Record<(typeof SPECIAL_TOKENS)[number], number>;
}

/**
 * A tokenizer of exactly `vocabSize` ids. The special tokens take `firstSpecialId` and the two ids
 * after it when that fits (Qwen2.5 puts <|endoftext|> at 151643, <|im_start|> and <|im_end|> next),
 * else the last three ids; regular tokens fill every other id in order.
 */
export function syntheticTokenizer(vocabSize: number, options: { firstSpecialId?: number; modelMaxLength?: number } = {}): SyntheticTokenizer {
  const nSpecial = SPECIAL_TOKENS.length;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + nSpecial) {
    throw new Error(`vocab_size ${vocabSize}: a byte-level tokenizer needs at least ${256 + nSpecial} ids (256 bytes + ${nSpecial} special tokens)`);
  }
  const first = options.firstSpecialId !== undefined && options.firstSpecialId >= 256 && options.firstSpecialId + nSpecial <= vocabSize
    ? options.firstSpecialId
    : vocabSize - nSpecial;
  const specialIds = SPECIAL_TOKENS.map((_, i) => first + i);
  const isSpecial = (id: number) => id >= first && id < first + nSpecial;

  const bytes = byteChars();
  const vocab: Record<string, number> = {};
  const merges: [string, string][] = [];
  let nextId = 0;
  const take = () => {
    while (isSpecial(nextId)) nextId++;
    return nextId++;
  };
  for (const c of bytes) vocab[c] = take();
  const regular = vocabSize - nSpecial;
  // two-byte tokens, then two-byte + byte: every new string is distinct, so each merge adds an id
  const pairs: string[] = [];
  outer: for (const a of bytes) {
    for (const b of bytes) {
      if (bytes.length + merges.length >= regular) break outer;
      vocab[a + b] = take();
      merges.push([a, b]);
      pairs.push(a + b);
    }
  }
  outer2: for (const a of pairs) {
    for (const b of bytes) {
      if (merges.length + bytes.length >= regular) break outer2;
      vocab[a + b] = take();
      merges.push([a, b]);
    }
  }
  if (merges.length + bytes.length < regular) {
    throw new Error(`vocab_size ${vocabSize}: more than ${bytes.length * bytes.length * (bytes.length + 1)} regular tokens is not supported by the synthetic tokenizer`);
  }
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, specialIds[i]!)),
    normalizer: null, pre_tokenizer: byteLevel, post_processor: { ...byteLevel, trim_offsets: false, use_regex: false }, decoder: byteLevel,
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: false, add_prefix_space: false, bos_token: null, eos_token: "<|im_end|>", pad_token: "<|endoftext|>",
    unk_token: null, errors: "replace", model_max_length: options.modelMaxLength ?? 4096, chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false, split_special_tokens: false, tokenizer_class: "Qwen2Tokenizer",
  };
  return {
    files: { "tokenizer.json": JSON.stringify(tokenizerJson) + "\n", "tokenizer_config.json": JSON.stringify(tokenizerConfig, null, 2) + "\n" },
    special: Object.fromEntries(SPECIAL_TOKENS.map((t, i) => [t, specialIds[i]!])) as SyntheticTokenizer["special"],
  };
}
