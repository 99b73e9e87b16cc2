// Summarizes math-world RLVR runs into bench/results/mathworld/: one small JSON per run (config
// essentials, test accuracy per eval step, training accuracy / distinct responses / rechecking
// responses per step, wall time, the standalone final evaluation) and summary.json + summary.md:
// per condition, mean ± sample std over seeds of the final test accuracy graded strict (boxed)
// and format-blind, the gains over the base, and the train-vs-test curves.
//   node bench/mathworld/summarize.mjs runs/mw/1shot-s0 runs/mw/1shot-s1 ... (folders named <condition>-s<seed>)
//   (MW_RESULTS=<folder> writes there instead; it must hold base.final-eval.json)
// Needs bench/results/mathworld/base.final-eval.json and <run>.final-eval.json (eval-final.sh).
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";

const outDir = process.env.MW_RESULTS ?? "bench/results/mathworld"; // another folder: MW_RESULTS=...
mkdirSync(outDir, { recursive: true });
const lines = (p) => (existsSync(p) ? readFileSync(p, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)) : []);
const json = (p) => (existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : null);
const round = (x, d = 4) => (x === null || x === undefined ? null : Number(x.toFixed(d)));
// the base on each split: runs evaluated on the validation split (val-*) are compared with base-val
const baseEvals = { test: json(join(outDir, "base.final-eval.json")), val: json(join(outDir, "base-val.final-eval.json")) };
if (!baseEvals.test) throw new Error(`${outDir}/base.final-eval.json missing: run bench/mathworld/eval-final.sh base`);
const baseOf = (e) => ({ strict: e.accuracy, formatBlind: e.lenientAccuracy, recheck: e.recheckRate, sampled: e.sampled ?? null });

const runs = [];
for (const dir of process.argv.slice(2)) {
  const name = basename(dir);
  const m = /^(.*)-s(\d+)$/.exec(name);
  if (!m) throw new Error(`${dir}: expected a folder named <condition>-s<seed>`);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const metrics = lines(join(dir, "metrics.jsonl"));
  const evals = lines(join(dir, "eval.jsonl"));
  const bench = Object.keys(evals[0]?.test ?? { mathworld: 0 })[0];
  const cmdFile = join(dir, "command.txt");
  const final = json(join(outDir, `${name}.final-eval.json`));
  const run = {
    condition: m[1], seed: Number(m[2]), dir: name,
    command: existsSync(cmdFile) ? readFileSync(cmdFile, "utf8").trim() : null,
    config: {
      train: config.data.train.replace(/^.*\/(packages|runs)\//, "$1/"), batch: config.data.trainBatchSize, n: config.rollout.n,
      temperature: config.rollout.temperature, lr: config.actor.lr, klCoef: config.loss.kl ? config.actor.klCoef : 0,
      entropyCoeff: config.loss.entropy ? config.actor.entropyCoeff : 0, policyLoss: config.loss.policy,
      formatReward: config.reward.formatReward, wrongLabels: config.data.wrongLabels, steps: config.trainer.totalSteps, seed: config.trainer.seed,
      eval: config.eval.files?.mathworld?.replace(/^.*\/packages\//, "packages/") ?? null,
    },
    steps: metrics.length,
    wall_s: metrics.at(-1)?.time ?? null,
    test: evals.map((e) => [e.step, e.test[bench]]),
    train_acc: metrics.map((x) => round(x.train_acc)),
    entropy: metrics.map((x) => round(x.entropy)),
    // per step, of the batch's responses (16 × 8 = 128): distinct token sequences, responses with a reflection word
    distinct_responses: metrics.map((x) => x.distinct_responses ?? null),
    reflection_responses: metrics.map((x) => x.reflection_responses ?? null),
    final: final && {
      split: final.split ?? "test", strict: final.accuracy, formatBlind: final.lenientAccuracy, formatErrors: final.formatErrors,
      recheck: final.recheckRate, byFamily: final.byFamily, bySlipSites: final.bySlipSites, sampled: final.sampled ?? null,
    },
  };
  run.before = run.test[0]?.[1] ?? null;
  run.after = run.test.at(-1)?.[1] ?? null;
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(run) + "\n");
  runs.push(run);
}

const stat = (xs) => {
  xs = xs.filter((x) => x !== null && x !== undefined);
  if (!xs.length) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
};
const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const by = {};
for (const r of runs) (by[r.condition] ??= []).push(r);
const base = baseOf(baseEvals.test);
const summary = { base, baseVal: baseEvals.val ? baseOf(baseEvals.val) : null, conditions: {} };
for (const [c, rs] of Object.entries(by)) {
  summary.conditions[c] = {
    seeds: rs.map((r) => r.seed),
    split: rs[0].final?.split ?? "test",
    strict: stat(rs.map((r) => r.final?.strict)),
    formatBlind: stat(rs.map((r) => r.final?.formatBlind)),
    recheck: stat(rs.map((r) => r.final?.recheck)),
    sampledDistinct: stat(rs.map((r) => r.final?.sampled?.distinctShare)),
    sampledPass1: stat(rs.map((r) => r.final?.sampled?.pass1Lenient)),
    trainAccLast10: stat(rs.map((r) => avg(r.train_acc.slice(-10)))),
    wall_s: stat(rs.map((r) => r.wall_s)),
  };
}

const pct = (x) => (x === null || x === undefined ? "–" : (100 * x).toFixed(1));
const pm = (s) => (s ? `${pct(s.mean)} ± ${pct(s.sd)}` : "–");
const gain = (s, b) => (s ? `${s.mean >= b ? "+" : ""}${pct(s.mean - b)}` : "–");
const describeBase = (base, split) =>
  `Base on the ${split} split (greedy): strict ${pct(base.strict)} %, format-blind ${pct(base.formatBlind)} %, greedy answers that recheck ${pct(base.recheck)} %` +
    (base.sampled ? `; 8 samples at T=${base.sampled.temperature}: distinct ${pct(base.sampled.distinctShare)} %, pass@1 ${pct(base.sampled.pass1)} % (format-blind ${pct(base.sampled.pass1Lenient)} %), pass@8 ${pct(base.sampled.passN)} % (format-blind ${pct(base.sampled.passNLenient)} %), recheck ${pct(base.sampled.recheckRate)} %` : "");
const md = [
  describeBase(base, "test"),
  ...(summary.baseVal ? ["", describeBase(summary.baseVal, "validation")] : []),
  "",
  "Gains are over the base on the run's evaluation split (validation for val-* runs, test otherwise).",
  "",
  "| condition | seeds | strict (mean ± sd) | per seed | gain | format-blind (mean ± sd) | per seed | gain | greedy rechecks | distinct @T=0.6 | train acc (last 10 steps) | wall per run |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const [c, s] of Object.entries(summary.conditions)) {
  const rs = by[c];
  const b = s.split === "val" ? summary.baseVal ?? { strict: NaN, formatBlind: NaN } : base;
  md.push(
    `| ${c} | ${s.seeds.join(", ")} | ${pm(s.strict)} | ${rs.map((r) => pct(r.final?.strict)).join(" / ")} | ${gain(s.strict, b.strict)} | ` +
      `${pm(s.formatBlind)} | ${rs.map((r) => pct(r.final?.formatBlind)).join(" / ")} | ${gain(s.formatBlind, b.formatBlind)} | ` +
      `${pm(s.recheck)} | ${pm(s.sampledDistinct)} | ${pm(s.trainAccLast10)} | ${s.wall_s ? Math.round(s.wall_s.mean) : "–"} s |`,
  );
}
// training accuracy (mean of the 10 steps up to the eval step) vs test accuracy (strict, the
// trainer's evaluation), distinct responses and rechecking responses per step, mean over seeds
for (const [c, rs] of Object.entries(by)) {
  const steps = rs[0].test.map((t) => t[0]);
  md.push(
    "", `Curve, ${c} (mean over seeds ${rs.map((r) => r.seed).join(", ")}; window = the 10 steps up to the eval step; of 128 responses a step)`, "",
    "| step | train acc | test acc (strict) | per seed | distinct responses | responses with a reflection word |", "| --- | --- | --- | --- | --- | --- |",
  );
  const curve = [];
  for (const st of steps) {
    const win = (xs) => (st === 0 ? null : avg(rs.map((r) => avg(xs(r).slice(Math.max(0, st - 10), st)))));
    const tr = win((r) => r.train_acc);
    const di = win((r) => r.distinct_responses);
    const re = win((r) => r.reflection_responses);
    const te = rs.map((r) => r.test.find((t) => t[0] === st)?.[1]).filter((x) => x !== undefined);
    const tem = avg(te);
    curve.push({ step: st, train_acc: tr, test_acc: tem, test_per_seed: te, distinct_responses: di, reflection_responses: re });
    md.push(`| ${st} | ${tr === null ? "–" : pct(tr)} | ${pct(tem)} | ${te.map(pct).join(" / ")} | ${di === null ? "–" : di.toFixed(1)} | ${re === null ? "–" : re.toFixed(1)} |`);
  }
  summary.conditions[c].curve = curve;
}
writeFileSync(join(outDir, "summary.json"), JSON.stringify(summary, null, 1) + "\n");
writeFileSync(join(outDir, "summary.md"), md.join("\n") + "\n");
console.log(md.join("\n"));
