// Tokens that end generation in rollouts and evaluation. The Qwen evaluation harness stops at
// "<|im_end|>" and "<|endoftext|>" whatever the model's generation_config lists, so both end a
// response here too when the tokenizer has them (Qwen2.5-Math base models list only one).
export const STOP_TOKENS = ["<|im_end|>", "<|endoftext|>"] as const;

/** The model's EOS ids followed by the ids of STOP_TOKENS the tokenizer knows, without repeats. */
export function stopTokenIds(tokenizer: { tokenToId(token: string): number | undefined }, eosIds: readonly number[]): number[] {
  const ids = [...eosIds];
  for (const token of STOP_TOKENS) {
    const id = tokenizer.tokenToId(token);
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  return ids;
}
