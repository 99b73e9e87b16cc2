// `rlvr mathworld export`: the built-in math world's seeded train pool and test set as verl
// parquet + JSONL (the same loaders as real data read them).
import { Command } from "commander";

import { Engine } from "@rlvr/engine";
import { DEFAULT_SEED, DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, FAMILIES, evaluateGreedy, exportSplits, generateSplits } from "@rlvr/mathworld";
import { loadModelDir } from "@rlvr/model";

import { intOption, withMaxNewTokens } from "../options.js";

export function mathworldCommand(): Command {
  const cmd = new Command("mathworld").description("the built-in tiny math world (synthetic problems with worked solutions)");
  cmd
    .command("export")
    .description("write DIR/{train,test}.{parquet,jsonl}: seeded, disjoint verl-style splits")
    .requiredOption("--out <dir>", "output directory")
    .option("--seed <s>", "split seed", intOption(0), DEFAULT_SEED)
    .option("--train-size <n>", "train pool size", intOption(1), DEFAULT_TRAIN_SIZE)
    .option("--test-size <n>", "test set size", intOption(1), DEFAULT_TEST_SIZE)
    .action((o: { out: string; seed: number; trainSize: number; testSize: number }) => {
      const r = exportSplits(o.out, { seed: o.seed, trainSize: o.trainSize, testSize: o.testSize });
      console.log(`mathworld seed ${o.seed}: ${r.train} train, ${r.test} test rows`);
      for (const f of r.files) console.log(`  ${f}`);
    });
  withMaxNewTokens(cmd.command("eval"), "new tokens per answer", 96)
    .description("greedy accuracy of a model on the math world's test split (boxed answers, @rlvr/verifier)")
    .requiredOption("--model <dir>", "Hugging Face model directory (e.g. packages/mathworld/base)")
    .option("--seed <s>", "split seed", intOption(0), DEFAULT_SEED)
    .option("--size <n>", "first n test problems (default: all)", intOption(1))
    .option("--system", "add the evaluation system prompt (spec section 7)")
    .option("--json", "print the result as JSON")
    .action(async (o: { model: string; seed: number; size?: number; maxNewTokens: number; system?: boolean; json?: boolean }) => {
      const m = await loadModelDir(o.model);
      const engine = Engine.fromWeights(m.config, m.weights!);
      const test = generateSplits({ seed: o.seed }).test.slice(0, o.size);
      const r = await evaluateGreedy(engine, m.tokenizer, test, { maxNewTokens: o.maxNewTokens, eosIds: m.eosTokenIds, withSystem: o.system ?? false });
      const { responses: _responses, ...summary } = r;
      if (o.json) return console.log(JSON.stringify(summary));
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      console.log(`test accuracy ${pct(r.accuracy)} (${r.correct}/${r.total}); no boxed answer ${pct(r.formatErrors)}; truncated ${pct(r.truncated)}; counting unboxed "The answer is N." ${pct(r.lenientAccuracy)}`);
      console.log(`  by family: ${FAMILIES.map((f) => `${f} ${r.byFamily[f]?.correct ?? 0}/${r.byFamily[f]?.total ?? 0}`).join(", ")}`);
      console.log(`  by level:  ${["1", "2", "3"].map((d) => `${d}: ${r.byDifficulty[d]?.correct ?? 0}/${r.byDifficulty[d]?.total ?? 0}`).join(", ")}`);
    });
  return cmd;
}
