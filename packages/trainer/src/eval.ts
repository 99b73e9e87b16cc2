// Evaluation on test benchmarks (spec section 7): the qwen25-math-cot prompt, greedy pass@1 or
// avg@k at the benchmark's protocol temperature, graded by the verifier.
import { EVAL_PROTOCOL, loadEvalBenchmark, type EvalExample } from "@rlvr/data";
import type { Engine } from "@rlvr/engine";
import type { ModelTokenizer } from "@rlvr/model";
import { engineStepModel, generate } from "@rlvr/sampler";
import type { VerifierPool } from "@rlvr/verifier";

export interface EvalSet {
  name: string;
  examples: EvalExample[];
  temperature: number;
  topP: number;
  samples: number;
}

/** Loads the configured benchmarks (files override the shared folder), capped at `limit` examples each. */
export function loadEvalSets(benchmarks: readonly string[], files: Record<string, string>, limit: number | null): EvalSet[] {
  return benchmarks.map((name) => {
    const all = loadEvalBenchmark(name, files[name]);
    const protocol = EVAL_PROTOCOL[name as keyof typeof EVAL_PROTOCOL] ?? { temperature: 0, topP: 1, samples: 1 };
    return { name, examples: limit === null ? all : all.slice(0, limit), ...protocol };
  });
}

export interface EvalContext {
  engine: Engine;
  tokenizer: ModelTokenizer;
  eosIds: readonly number[];
  systemPrompt: string;
  maxNewTokens: number;
  maxBatch: number;
  seed: number;
  pool: VerifierPool;
  timeoutMs: number;
}

/** Accuracy in [0, 1] per benchmark (mean over examples × samples; a prompt that does not fit counts as wrong). */
export async function evaluate(ctx: EvalContext, sets: readonly EvalSet[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const context = ctx.engine.config.maxPositionEmbeddings;
  for (const set of sets) {
    const prompts: Int32Array[] = [];
    const golds: string[] = [];
    for (const ex of set.examples) {
      const messages = [...(ctx.systemPrompt ? [{ role: "system", content: ctx.systemPrompt }] : []), { role: "user", content: ex.problem }];
      const ids = ctx.tokenizer.encodeChat(messages, { addGenerationPrompt: true, maxLength: Number.MAX_SAFE_INTEGER });
      if (ids.length + 1 > context) continue;
      prompts.push(Int32Array.from(ids));
      golds.push(ex.answer);
    }
    let correct = 0;
    if (prompts.length > 0) {
      const samples = generate(engineStepModel(ctx.engine, { maxNewTokens: ctx.maxNewTokens }), prompts, {
        n: set.samples, temperature: set.temperature, topP: set.topP, maxNewTokens: ctx.maxNewTokens, seed: ctx.seed,
        eosIds: ctx.eosIds, maxBatch: ctx.maxBatch, decode: (t) => ctx.tokenizer.decode(Array.from(t), { skipSpecialTokens: true }),
      });
      const results = await ctx.pool.verifyBatch(samples.map((s) => ({ response: s.text ?? "", gold: golds[s.promptIndex]! })), { timeoutMs: ctx.timeoutMs });
      correct = results.filter((r) => r.correct).length;
    }
    const total = set.examples.length * set.samples;
    out[set.name] = total > 0 ? correct / total : 0;
  }
  return out;
}
