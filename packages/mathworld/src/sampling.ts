// What the model does when it samples (the rollouts' view, not the greedy evaluation's):
// n samples per problem at the rollout temperature, scored strict (boxed) and format-blind
// ("The answer is N." counts too), with the share of distinct responses per group (exploration:
// GRPO learns nothing from a group of identical responses) and of responses that recheck.
import type { Engine } from "@rlvr/engine";
import type { ModelTokenizer } from "@rlvr/model";
import { engineStepModel, generate } from "@rlvr/sampler";
import { verifySync } from "@rlvr/verifier";

import type { Problem } from "./generator.js";
import { promptIds } from "./pretrain.js";
import { RECHECK, slipSites } from "./slips.js";

export interface SampleStats {
  problems: number;
  n: number;
  temperature: number;
  /** Mean over problems of (distinct responses in the group) / n. */
  distinctShare: number;
  /** Mean per-sample accuracy (pass@1 estimated from n samples), strict and format-blind. */
  pass1: number;
  pass1Lenient: number;
  /** Share of problems with at least one correct sample among n. */
  passN: number;
  passNLenient: number;
  /** Share of samples that write "Recheck:". */
  recheckRate: number;
  /**
   * On the problems with a carry or borrow step (where a recheck can fix a slip): strict accuracy
   * of the samples that recheck and of those that do not (null: none of that kind).
   */
  accuracyWithRecheck: number | null;
  accuracyWithoutRecheck: number | null;
}

export async function sampleStats(
  engine: Engine,
  tok: ModelTokenizer,
  problems: readonly Problem[],
  o: { n?: number; temperature?: number; maxNewTokens?: number; eosIds?: readonly number[]; seed?: number } = {},
): Promise<SampleStats> {
  const n = o.n ?? 8;
  const temperature = o.temperature ?? 0.6;
  const maxNewTokens = o.maxNewTokens ?? 96;
  const prompts = problems.map((p) => Int32Array.from(promptIds(tok, p)));
  const samples = await generate(engineStepModel(engine, { maxNewTokens }), prompts, {
    n,
    temperature,
    maxNewTokens,
    eosIds: o.eosIds ?? tok.eosTokenIds,
    seed: o.seed ?? 0,
    maxBatch: 128,
    decode: (t) => tok.decode(Array.from(t), { skipSpecialTokens: true }),
  });
  const groups = problems.map(() => ({ texts: new Set<string>(), strict: 0, lenient: 0 }));
  let rechecks = 0;
  const withRecheck = { right: 0, all: 0 }, withoutRecheck = { right: 0, all: 0 };
  for (const s of samples) {
    const p = problems[s.promptIndex]!;
    const g = groups[s.promptIndex]!;
    const text = s.text ?? "";
    g.texts.add(text);
    const strict = verifySync(text, p.answer).correct;
    const lenient = strict || verifySync(text, p.answer, { fallbacks: ["final-answer"] }).correct;
    if (strict) g.strict++;
    if (lenient) g.lenient++;
    const rechecked = text.includes(RECHECK);
    if (rechecked) rechecks++;
    if (slipSites(p) > 0) {
      const t = rechecked ? withRecheck : withoutRecheck;
      t.all++;
      if (strict) t.right++;
    }
  }
  const total = samples.length;
  const mean = (f: (g: (typeof groups)[number]) => number) => groups.reduce((a, g) => a + f(g), 0) / groups.length;
  return {
    problems: problems.length,
    n,
    temperature,
    distinctShare: mean((g) => g.texts.size / n),
    pass1: mean((g) => g.strict / n),
    pass1Lenient: mean((g) => g.lenient / n),
    passN: mean((g) => (g.strict > 0 ? 1 : 0)),
    passNLenient: mean((g) => (g.lenient > 0 ? 1 : 0)),
    recheckRate: rechecks / total,
    accuracyWithRecheck: withRecheck.all > 0 ? withRecheck.right / withRecheck.all : null,
    accuracyWithoutRecheck: withoutRecheck.all > 0 ? withoutRecheck.right / withoutRecheck.all : null,
  };
}
