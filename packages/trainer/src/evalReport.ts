// `rlvr eval` around evaluateSet: where the benchmark files are, the protocol per benchmark,
// and the report (JSON + Markdown) with accuracy, response lengths and self-reflection counts.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import {
  DataError,
  DEFAULT_REFLECTION_WORDS,
  countReflectionWords,
  reflectionStats,
  responseLengthStats,
  sharedDir,
  writeFileAtomic,
  type LengthStats,
  type ReflectionOptions,
  type ReflectionStats,
} from "@rlvr/data";

import { type EvalProtocol, type EvalSetResult } from "./eval.js";
import { breakdownMarkdown, subjectLevelBreakdown, type SubjectLevelBreakdown } from "./evalBreakdown.js";

// --- where the data is ---------------------------------------------------------------------

/** Where sharedDir() looks: RLVR_SHARED_DIR when set, else shared/ beside the workspace root. */
export function sharedDirCandidate(): { path: string | null; how: string } {
  const env = process.env.RLVR_SHARED_DIR;
  if (env) return { path: resolve(env), how: "RLVR_SHARED_DIR" };
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const parent = dirname(dir);
    if (parent === dir) return { path: null, how: "beside the repository (no pnpm-workspace.yaml found above the install)" };
    dir = parent;
  }
  return { path: resolve(dir, "..", "shared"), how: "../shared beside the repository" };
}

/** The places a benchmark's test.jsonl may be under a data folder, most specific layout first. */
export function benchmarkCandidates(name: string, root: string): string[] {
  return [join(root, "datasets", "eval", name, "test.jsonl"), join(root, "eval", name, "test.jsonl"), join(root, name, "test.jsonl")];
}

/**
 * The test.jsonl of a benchmark. `dataDir` (--data-dir) may be the shared folder, its
 * datasets/ or its datasets/eval/; without it the shared folder (sharedDir()) is used. The
 * error says where it looked and how to point at a copy.
 */
export function resolveBenchmarkFile(name: string, dataDir?: string): string {
  const fix = `point at a copy with --data-dir DIR (DIR/datasets/eval/${name}/test.jsonl), set RLVR_SHARED_DIR=DIR, or give the file with --file ${name}=PATH`;
  if (dataDir !== undefined) {
    const root = resolve(dataDir);
    if (!existsSync(root)) throw new DataError(`${name}: --data-dir ${root} does not exist; ${fix}`);
    const tried = benchmarkCandidates(name, root);
    const found = tried.find((p) => existsSync(p));
    if (!found) throw new DataError(`${name}: benchmark file not found under --data-dir ${root} (looked for ${tried.join(", ")}); ${fix}`);
    return found;
  }
  const root = sharedDir();
  if (root === null) {
    const where = sharedDirCandidate();
    throw new DataError(
      `${name}: shared data folder not found (looked for ${where.path ?? "shared/"}, ${where.how}); ${fix}`,
    );
  }
  const path = join(root, "datasets", "eval", name, "test.jsonl");
  if (!existsSync(path)) throw new DataError(`${name}: benchmark file ${path} not found in the shared data folder ${root}; ${fix}`);
  return path;
}

// --- protocol ------------------------------------------------------------------------------

/** "greedy" / "pass@1" → greedy; "avg@K" → K samples at `sampled`'s temperature and top-p. */
export function parseProtocol(spec: string, sampled: { temperature: number; topP: number }): EvalProtocol {
  const s = spec.trim().toLowerCase();
  if (s === "greedy" || s === "pass@1") return { temperature: 0, topP: 1, samples: 1 };
  const m = /^avg@(\d+)$/.exec(s);
  if (m && Number(m[1]) >= 1) return { temperature: sampled.temperature, topP: sampled.topP, samples: Number(m[1]) };
  throw new DataError(`protocol "${spec}": expected "greedy" (pass@1) or "avg@K" (K samples at the sampling temperature, e.g. avg@8)`);
}

export function protocolLabel(p: EvalProtocol): string {
  if (p.temperature === 0) return p.samples === 1 ? "greedy pass@1" : `greedy avg@${p.samples}`;
  return `avg@${p.samples} (T=${p.temperature}, top-p=${p.topP})`;
}

// --- report --------------------------------------------------------------------------------

export interface EvalSampleRecord {
  correct: boolean;
  extracted: string | null;
  /** Response length in tokens. */
  tokens: number;
  finishReason: string;
  /** Reflection words in this response, all words together. */
  reflection: number;
  text?: string;
}

export interface EvalProblemRecord {
  id: string;
  gold: string;
  /** MATH's subject and level (math500), for the breakdown. */
  subject?: string;
  level?: number;
  /** Correct samples / samples (the problem's share of the score; 0 or 1 under pass@1). */
  score: number;
  /** Correct samples. */
  correct: number;
  samples: number;
  /** The first sample's extracted answer (the only one under pass@1). */
  extracted: string | null;
  /** Mean response length over the samples, in tokens. */
  responseTokens: number;
  /** Reflection-word counts summed over the samples. */
  reflection: Record<string, number>;
  promptTokens: number;
  /** Set when the prompt did not fit the context (no samples; counted as wrong). */
  skipped?: "prompt-too-long";
  responses: EvalSampleRecord[];
}

export interface EvalBenchmarkReport {
  name: string;
  file: string | null;
  protocol: EvalProtocol & { label: string };
  /** Problems evaluated. */
  n: number;
  /** Mean over problems × samples, in [0, 1]. */
  accuracy: number;
  correct: number;
  total: number;
  skipped: number;
  /** Response lengths in tokens (clippedFraction: share at --max-tokens). */
  responseLength: LengthStats;
  reflection: ReflectionStats;
  seconds: number;
  /** Accuracy by subject and by level, when the problems carry them (math500). */
  breakdown?: SubjectLevelBreakdown;
  problems: EvalProblemRecord[];
}

export interface EvalReport {
  version: 1;
  createdAt: string;
  model: string;
  systemPrompt: string;
  maxTokens: number;
  seed: number;
  limit: number | null;
  /** How answers were graded (@rlvr/verifier graders); absent in reports written before graders had names. */
  grader?: string;
  reflectionWords: string[];
  reflectionInflections: boolean;
  /** Unweighted mean of the benchmark accuracies (spec section 7). */
  average: number;
  benchmarks: EvalBenchmarkReport[];
}

export interface EvalReportMeta {
  model: string;
  systemPrompt: string;
  maxTokens: number;
  seed: number;
  limit: number | null;
  grader?: string;
  files?: Record<string, string>;
  reflection?: ReflectionOptions;
  /** Keep each response's text in the records. */
  responses?: boolean;
  createdAt?: Date;
}

export function benchmarkReport(r: EvalSetResult, meta: EvalReportMeta): EvalBenchmarkReport {
  const ro = meta.reflection ?? {};
  const texts: string[] = [];
  const lengths: number[] = [];
  const problems = r.problems.map((p): EvalProblemRecord => {
    const words = Object.fromEntries((ro.words ?? DEFAULT_REFLECTION_WORDS).map((w) => [w.trim().toLowerCase(), 0]));
    const responses = p.samples.map((s): EvalSampleRecord => {
      texts.push(s.text);
      lengths.push(s.tokens);
      const counts = countReflectionWords(s.text, ro);
      let total = 0;
      for (const [w, c] of Object.entries(counts)) {
        words[w] = (words[w] ?? 0) + c;
        total += c;
      }
      return { correct: s.correct, extracted: s.extracted, tokens: s.tokens, finishReason: s.finishReason, reflection: total, ...(meta.responses ? { text: s.text } : {}) };
    });
    const correct = responses.filter((s) => s.correct).length;
    return {
      id: p.example.id,
      gold: p.example.answer,
      ...(p.example.subject !== undefined ? { subject: p.example.subject } : {}),
      ...(p.example.level !== undefined ? { level: p.example.level } : {}),
      score: correct / r.protocol.samples,
      correct,
      samples: responses.length,
      extracted: responses[0]?.extracted ?? null,
      responseTokens: responses.length ? responses.reduce((a, s) => a + s.tokens, 0) / responses.length : 0,
      reflection: words,
      promptTokens: p.promptTokens,
      ...(p.skipped ? { skipped: "prompt-too-long" as const } : {}),
      responses,
    };
  });
  const breakdown = subjectLevelBreakdown(problems);
  return {
    name: r.name,
    file: meta.files?.[r.name] ?? null,
    protocol: { ...r.protocol, label: protocolLabel(r.protocol) },
    n: r.problems.length,
    accuracy: r.accuracy,
    correct: r.correct,
    total: r.total,
    skipped: r.problems.filter((p) => p.skipped).length,
    responseLength: responseLengthStats(lengths, meta.maxTokens),
    reflection: reflectionStats(texts, ro),
    seconds: r.seconds,
    ...(breakdown ? { breakdown } : {}),
    problems,
  };
}

/** The report of a whole run; the average is the unweighted mean of the benchmark accuracies. */
export function buildEvalReport(results: readonly EvalSetResult[], meta: EvalReportMeta): EvalReport {
  const benchmarks = results.map((r) => benchmarkReport(r, meta));
  return {
    version: 1,
    createdAt: (meta.createdAt ?? new Date()).toISOString(),
    model: meta.model,
    systemPrompt: meta.systemPrompt,
    maxTokens: meta.maxTokens,
    seed: meta.seed,
    limit: meta.limit,
    ...(meta.grader !== undefined ? { grader: meta.grader } : {}),
    reflectionWords: [...(meta.reflection?.words ?? DEFAULT_REFLECTION_WORDS)].map((w) => w.trim().toLowerCase()),
    reflectionInflections: meta.reflection?.inflections ?? false,
    average: benchmarks.length ? benchmarks.reduce((a, b) => a + b.accuracy, 0) / benchmarks.length : 0,
    benchmarks,
  };
}

const pct = (x: number) => (100 * x).toFixed(1);
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The accuracy table (one row per benchmark, then the average). */
export function accuracyTable(report: EvalReport): string {
  const rows = [
    "| Benchmark | Protocol | n | Accuracy (%) |",
    "|---|---|---:|---:|",
    ...report.benchmarks.map((b) => `| ${cell(b.name)} | ${b.protocol.label} | ${b.n} | ${pct(b.accuracy)} |`),
    `| **Average** | | | **${pct(report.average)}** |`,
  ];
  return rows.join("\n");
}

/** The whole report as Markdown: accuracy, response lengths, self-reflection words. */
export function evalMarkdown(report: EvalReport): string {
  const words = report.reflectionWords;
  const lines = [
    `# Evaluation: ${report.model}`,
    "",
    `Max ${report.maxTokens} new tokens, seed ${report.seed}${report.limit !== null ? `, first ${report.limit} problems per benchmark` : ""}. ` +
      `System prompt: ${report.systemPrompt ? `"${cell(report.systemPrompt)}"` : "(none)"}.` +
      (report.grader ? ` Grader: ${report.grader}.` : ""),
    "",
    "## Accuracy",
    "",
    accuracyTable(report),
    "",
    "## Response length (tokens)",
    "",
    "| Benchmark | responses | mean | median | p90 | max | at max tokens (%) |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...report.benchmarks.map((b) => {
      const l = b.responseLength;
      return `| ${cell(b.name)} | ${l.count} | ${num(l.mean)} | ${num(l.median)} | ${num(l.p90)} | ${l.max} | ${pct(l.clippedFraction)} |`;
    }),
    "",
    `## Self-reflection words${report.reflectionInflections ? " (with inflections)" : ""}`,
    "",
    `| Benchmark | total | responses with any (%) | ${words.map(cell).join(" | ")} |`,
    `|---|---:|---:|${words.map(() => "---:").join("|")}|`,
    ...report.benchmarks.map((b) => {
      const r = b.reflection;
      const share = r.responses ? r.responsesWithReflection / r.responses : 0;
      return `| ${cell(b.name)} | ${r.total} | ${pct(share)} | ${words.map((w) => r.counts[w] ?? 0).join(" | ")} |`;
    }),
    "",
  ];
  for (const b of report.benchmarks) if (b.breakdown) lines.push(...breakdownMarkdown(b.name, b.breakdown));
  const skipped = report.benchmarks.filter((b) => b.skipped > 0);
  if (skipped.length) {
    lines.push(`Prompts longer than the model's context were counted as wrong: ${skipped.map((b) => `${b.name} ${b.skipped}`).join(", ")}.`, "");
  }
  return lines.join("\n");
}

export const EVAL_FILES = { json: "eval.json", markdown: "eval.md" } as const;

/** Writes eval.json and eval.md into `outDir` (atomically); returns their paths. */
export function writeEvalReport(outDir: string, report: EvalReport): { json: string; markdown: string } {
  const json = join(outDir, EVAL_FILES.json);
  const markdown = join(outDir, EVAL_FILES.markdown);
  writeFileAtomic(json, JSON.stringify(report, null, 2) + "\n");
  writeFileAtomic(markdown, evalMarkdown(report));
  return { json, markdown };
}
