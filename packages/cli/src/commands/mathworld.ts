// `rlvr mathworld export`: the built-in math world's seeded train pool and test set as verl
// parquet + JSONL (the same loaders as real data read them).
import { Command } from "commander";

import { Engine } from "@rlvr/engine";
import { DEFAULT_SEED, DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, FAMILIES, evaluateGreedy, exportSplits, generateSplits, sampleStats } from "@rlvr/mathworld";
import { loadModelDir } from "@rlvr/model";

import { intOption, numberOption, withMaxNewTokens } from "../options.js";

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
    .option("--size <n>", "first n problems of the split (default: all)", intOption(1))
    .option("--split <name>", "test or val (the validation split, for choosing hyperparameters)", "test")
    .option("--system", "add the evaluation system prompt (spec section 7)")
    .option("--samples <n>", "also sample n responses per problem (the rollouts' view: distinct share, pass@1, pass@n, rechecks)", intOption(1))
    .option("--temperature <t>", "sampling temperature for --samples", numberOption(0, 10, true), 0.6)
    .option("--json", "print the result as JSON")
    .action(async (o: { model: string; seed: number; size?: number; split: string; maxNewTokens: number; system?: boolean; samples?: number; temperature: number; json?: boolean }) => {
      if (o.split !== "test" && o.split !== "val") throw new Error(`--split: test or val, got ${JSON.stringify(o.split)}`);
      const m = await loadModelDir(o.model);
      const engine = Engine.fromWeights(m.config, m.weights!);
      const problems = generateSplits({ seed: o.seed })[o.split].slice(0, o.size);
      const r = await evaluateGreedy(engine, m.tokenizer, problems, { maxNewTokens: o.maxNewTokens, eosIds: m.eosTokenIds, withSystem: o.system ?? false });
      const sampled = o.samples === undefined ? undefined : await sampleStats(engine, m.tokenizer, problems, { n: o.samples, temperature: o.temperature, maxNewTokens: o.maxNewTokens, eosIds: m.eosTokenIds });
      const { responses: _responses, ...summary } = r;
      if (o.json) return console.log(JSON.stringify({ split: o.split, ...summary, ...(sampled ? { sampled } : {}) }));
      const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(1)}%`);
      const tally = (t: Record<string, { correct: number; total: number }>, keys: string[]) => keys.map((k) => `${k} ${t[k]?.correct ?? 0}/${t[k]?.total ?? 0}`).join(", ");
      console.log(`${o.split} accuracy ${pct(r.accuracy)} (${r.correct}/${r.total}); no boxed answer ${pct(r.formatErrors)}; truncated ${pct(r.truncated)}; format-blind (unboxed "The answer is N." counts) ${pct(r.lenientAccuracy)}; recheck ${pct(r.recheckRate)}`);
      console.log(`  by family: ${tally(r.byFamily, [...FAMILIES])}`);
      console.log(`  by level:  ${tally(r.byDifficulty, ["1", "2", "3"])}`);
      console.log(`  by carry/borrow steps: ${tally(r.bySlipSites, ["0", "1", "2+"])}`);
      if (sampled) {
        const s = sampled;
        console.log(
          `  ${s.n} samples at temperature ${s.temperature}: distinct ${pct(s.distinctShare)}; pass@1 ${pct(s.pass1)} (format-blind ${pct(s.pass1Lenient)}); ` +
            `pass@${s.n} ${pct(s.passN)} (format-blind ${pct(s.passNLenient)}); recheck ${pct(s.recheckRate)} (on carry/borrow problems: accuracy ${pct(s.accuracyWithRecheck)} with a recheck, ${pct(s.accuracyWithoutRecheck)} without)`,
        );
      }
    });
  return cmd;
}
