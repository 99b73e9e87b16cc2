// `pnpm bench`: verifications per second on typical MATH answers with the worker pool on
// 2 cores, and the worst-case latency on the pathological cases. Writes
// bench/results/verifier-<date>.json at the repository root and prints a summary.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";

import { repoRoot } from "@rlvr/testing/repoRoot";

import { CASES, responseOf } from "../cases/index.js";
import { loadEvalGolds, sharedDir } from "../datasets.js";
import { VerifierPool, type Pair } from "../pool.js";
import { agreement } from "./agreement.js";

const WORKERS = 2;
const ROUNDS = 10_000;
const TIMEOUT_MS = 5_000;

/** MATH-500 golds as right answers and as another problem's (wrong) answers; the case table when shared/ is absent. */
function typicalPairs(): { pairs: Pair[]; source: string } {
  const shared = sharedDir();
  const golds = shared ? loadEvalGolds(shared).filter((g) => g.source === "eval/math500").map((g) => g.gold) : [];
  const source = golds.length > 0 ? "eval/math500 golds" : "case table (shared/ not found)";
  const base = golds.length > 0 ? golds : Object.entries(CASES).filter(([k]) => k !== "pathological").flatMap(([, cs]) => cs.map((c) => c.gold));
  const pairs: Pair[] = [];
  for (let i = 0; pairs.length < ROUNDS; i++) {
    const gold = base[i % base.length]!;
    const answer = i % 2 === 0 ? gold : base[(i * 7 + 3) % base.length]!;
    pairs.push({ response: `<think>reasoning...</think>So the final answer is $\\boxed{${answer}}$.`, gold });
  }
  return { pairs, source };
}

async function throughput(pool: VerifierPool, pairs: readonly Pair[], grader: "boxed" | "qwen-math"): Promise<number> {
  const start = performance.now();
  await pool.verifyBatch(pairs, { grader });
  return pairs.length / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const pool = new VerifierPool({ size: WORKERS, timeoutMs: TIMEOUT_MS });
  try {
    const { pairs, source } = typicalPairs();
    await pool.verifyBatch(pairs.slice(0, 500)); // warm-up: workers loaded and JIT-compiled
    const start = performance.now();
    const results = await pool.verifyBatch(pairs);
    const seconds = (performance.now() - start) / 1000;
    const perSecond = pairs.length / seconds;
    const correct = results.filter((r) => r.correct).length;

    const latencies = await Promise.all(
      CASES.pathological!.map(async (c) => {
        const t0 = performance.now();
        const r = await pool.verify(responseOf(c), c.gold);
        return { case: c.why, ms: Math.round(performance.now() - t0), reason: r.reason, correct: r.correct };
      }),
    );
    const worst = latencies.reduce((a, b) => (b.ms > a.ms ? b : a));
    const agree = await agreement();
    const qwenPerSecond = await throughput(pool, pairs.slice(0, 4_000), "qwen-math");
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? "unknown",
      workers: WORKERS,
      throughput: { grader: "boxed", source, verifications: pairs.length, seconds: Number(seconds.toFixed(3)), perSecond: Math.round(perSecond), correct, target: 2_000 },
      throughputQwenMath: { grader: "qwen-math", source, verifications: 4_000, perSecond: Math.round(qwenPerSecond), target: 2_000 },
      agreement: agree,
      pathological: { cases: latencies.length, limitMs: TIMEOUT_MS, worstMs: worst.ms, worstCase: worst.case, allWithinLimit: latencies.every((l) => l.ms <= TIMEOUT_MS + 1_000), latencies },
    };
    const dir = join(repoRoot(), "bench", "results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `verifier-${report.date.slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`verifier bench (${WORKERS} workers, node ${process.version})`);
    console.log(`  throughput: ${report.throughput.perSecond} verifications/s on ${pairs.length} ${source} (target ≥ 2000/s)`);
    console.log(`  throughput (qwen-math grader): ${report.throughputQwenMath.perSecond} verifications/s on 4000 of the same pairs`);
    console.log(`  agreement: ${agree.note}`);
    console.log(`    qwen-math vs the Qwen2.5-Math protocol's verdicts: ${agree.qwenCases.agree}/${agree.qwenCases.cases} (${agree.qwenCases.percent}%)`);
    for (const g of ["boxed", "qwen-math"] as const) {
      const l = agree.labeledCases[g];
      const v = agree.verl[g];
      console.log(`    ${g} vs the case table's (boxed) verdicts: ${l.agree}/${l.cases} (${l.percent}%), ${l.falseAccepts} accepted that the table rejects`);
      console.log(`    ${g} vs verl's math reward (re-implemented) on ${v.responses} responses: ${v.agree} (${v.percent}%); accepted only by us ${v.acceptedOnlyByUs}, only by verl ${v.acceptedOnlyByVerl}`);
    }
    const peers = agree.peerSuites;
    console.log(`  peer suites (held out, ${peers.cases.boxed} boxed, ${peers.cases["free-text"]} free-text, ${peers.cases.negative} negative cases from ${peers.sources.join("; ")}):`);
    for (const g of ["boxed", "qwen-math"] as const) {
      const p = peers.graders[g];
      const k = (kind: "boxed" | "free-text" | "negative") => `${p.byKind[kind].agree}/${p.byKind[kind].cases} (${p.byKind[kind].percent}%)`;
      console.log(`    ${g}: boxed answers ${k("boxed")}, free-text answers ${k("free-text")}, negatives ${k("negative")}, ${p.falseAccepts} false accepts`);
      for (const m of p.misses) console.log(`      miss ${m}`);
    }
    console.log(`  pathological: worst ${worst.ms} ms (${worst.case}) over ${latencies.length} cases, limit ${TIMEOUT_MS} ms (target: none above 6000 ms)`);
    console.log(`  written to ${file}`);
  } finally {
    await pool.close();
  }
}

await main();
