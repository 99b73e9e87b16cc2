// `rlvr mathworld export`: the built-in math world's seeded train pool and test set as verl
// parquet + JSONL (the same loaders as real data read them).
import { Command, InvalidArgumentError } from "commander";

import { DEFAULT_SEED, DEFAULT_TEST_SIZE, DEFAULT_TRAIN_SIZE, exportSplits } from "@rlvr/mathworld";

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

export function mathworldCommand(): Command {
  const cmd = new Command("mathworld").description("the built-in tiny math world (synthetic problems with worked solutions)");
  cmd
    .command("export")
    .description("write DIR/{train,test}.{parquet,jsonl}: seeded, disjoint verl-style splits")
    .requiredOption("--out <dir>", "output directory")
    .option("--seed <s>", "split seed", int(0), DEFAULT_SEED)
    .option("--train-size <n>", "train pool size", int(1), DEFAULT_TRAIN_SIZE)
    .option("--test-size <n>", "test set size", int(1), DEFAULT_TEST_SIZE)
    .action((o: { out: string; seed: number; trainSize: number; testSize: number }) => {
      const r = exportSplits(o.out, { seed: o.seed, trainSize: o.trainSize, testSize: o.testSize });
      console.log(`mathworld seed ${o.seed}: ${r.train} train, ${r.test} test rows`);
      for (const f of r.files) console.log(`  ${f}`);
    });
  return cmd;
}
