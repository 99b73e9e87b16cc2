// Summarizes math-world RLVR runs into bench/results/mathworld/: one small JSON per run
// (config essentials, test accuracy per eval step, training accuracy per step, wall time) and
// summary.json + summary.md (mean ± sample std over seeds per condition).
//   node bench/mathworld/summarize.mjs runs/mw-1shot-s0 runs/mw-1shot-s1 ... (folders named <condition>-s<seed>)
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { basename, join } from "node:path";

const outDir = "bench/results/mathworld";
mkdirSync(outDir, { recursive: true });
const lines = (p) => (existsSync(p) ? readFileSync(p, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)) : []);
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
  const run = {
    condition: m[1], seed: Number(m[2]), dir: name,
    command: existsSync(cmdFile) ? readFileSync(cmdFile, "utf8").trim() : null,
    config: {
      train: config.data.train.replace(/^.*\/(packages|runs)\//, "$1/"), batch: config.data.trainBatchSize, n: config.rollout.n,
      lr: config.actor.lr, klCoef: config.loss.kl ? config.actor.klCoef : 0, entropyCoeff: config.loss.entropy ? config.actor.entropyCoeff : 0,
      policyLoss: config.loss.policy, wrongLabels: config.data.wrongLabels, steps: config.trainer.totalSteps, seed: config.trainer.seed,
    },
    steps: metrics.length,
    wall_s: metrics.at(-1)?.time ?? null,
    test: evals.map((e) => [e.step, e.test[bench]]),
    train_acc: metrics.map((x) => Number(x.train_acc.toFixed(4))),
    entropy: metrics.map((x) => Number(x.entropy.toFixed(4))),
  };
  run.before = run.test[0]?.[1] ?? null;
  run.after = run.test.at(-1)?.[1] ?? null;
  run.best = run.test.length ? Math.max(...run.test.map((t) => t[1])) : null;
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(run) + "\n");
  runs.push(run);
}
const stat = (xs) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
};
const by = {};
for (const r of runs) (by[r.condition] ??= []).push(r);
const summary = Object.fromEntries(Object.entries(by).map(([c, rs]) => [c, {
  seeds: rs.map((r) => r.seed), after: stat(rs.map((r) => r.after)), before: stat(rs.map((r) => r.before)),
  last_train_acc: stat(rs.map((r) => r.train_acc.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, r.train_acc.length))),
  wall_s: stat(rs.map((r) => r.wall_s)),
}]));
writeFileSync(join(outDir, "summary.json"), JSON.stringify(summary, null, 1) + "\n");
const pct = (x) => (100 * x).toFixed(1);
const md = ["| condition | seeds | test acc after (mean ± sd) | per seed | train acc (last 10 steps) | wall per run |", "| --- | --- | --- | --- | --- | --- |"];
for (const [c, s] of Object.entries(summary)) {
  md.push(`| ${c} | ${s.seeds.join(", ")} | ${pct(s.after.mean)} ± ${pct(s.after.sd)} | ${by[c].map((r) => pct(r.after)).join(" / ")} | ${pct(s.last_train_acc.mean)} | ${Math.round(s.wall_s.mean)} s |`);
}
// training accuracy (mean of the 10 steps up to the eval step) vs test accuracy, mean over seeds
for (const [c, rs] of Object.entries(by)) {
  const steps = rs[0].test.map((t) => t[0]);
  md.push("", `Curve, ${c} (mean over seeds ${rs.map((r) => r.seed).join(", ")}): step | train acc (steps step-9..step) | test acc | test acc per seed`, "", "| step | train acc | test acc | per seed |", "| --- | --- | --- | --- |");
  const curve = [];
  for (const st of steps) {
    const tr = st === 0 ? null : rs.map((r) => { const w = r.train_acc.slice(Math.max(0, st - 10), st); return w.reduce((a, b) => a + b, 0) / w.length; });
    const te = rs.map((r) => r.test.find((t) => t[0] === st)?.[1]).filter((x) => x !== undefined);
    const trm = tr ? tr.reduce((a, b) => a + b, 0) / tr.length : null;
    const tem = te.reduce((a, b) => a + b, 0) / te.length;
    curve.push({ step: st, train_acc: trm, test_acc: tem, test_per_seed: te });
    md.push(`| ${st} | ${trm === null ? "-" : pct(trm)} | ${pct(tem)} | ${te.map(pct).join(" / ")} |`);
  }
  summary[c].curve = curve;
}
writeFileSync(join(outDir, "summary.json"), JSON.stringify(summary, null, 1) + "\n");
writeFileSync(join(outDir, "summary.md"), md.join("\n") + "\n");
console.log(md.join("\n"));
