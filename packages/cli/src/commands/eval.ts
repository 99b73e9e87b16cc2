// `rlvr eval`: a model on the paper's benchmarks (spec section 7) with the Qwen2.5-Math
// protocol, plus response lengths and self-reflection words (spec section 8).
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { Command, InvalidArgumentError } from "commander";

import { DataError, EVAL_BENCHMARKS, EVAL_FIELDS, reflectionMatchers } from "@rlvr/data";
import { Engine } from "@rlvr/engine";
import { loadModelDir } from "@rlvr/model";
import {
  QWEN_MATH_COT_SYSTEM,
  buildEvalReport,
  stopTokenIds,
  defaultProtocol,
  evalMarkdown,
  evaluateSet,
  formatDuration,
  loadBenchmarkFile,
  parseProtocol,
  protocolLabel,
  resolveBenchmarkFile,
  writeEvalReport,
  type EvalReport,
  type EvalSet,
  type EvalSetResult,
} from "@rlvr/trainer";
import { DEFAULT_TIMEOUT_MS, GRADER_NAMES, VerifierPool, checkGraderName, type GraderName } from "@rlvr/verifier";

import { engineOptions, intOption, numberOption, withEngineOptions, withMaxNewTokens, type EngineCliOptions } from "../options.js";

const list = (v: string) => v.split(",").map((s) => s.trim()).filter((s) => s !== "");
const pair = (what: string) => (v: string, prev: [string, string][]) => {
  const i = v.indexOf("=");
  if (i <= 0 || i === v.length - 1) throw new InvalidArgumentError(`expected ${what}`);
  return [...prev, [v.slice(0, i).trim(), v.slice(i + 1).trim()] as [string, string]];
};

export interface EvalCliOptions extends EngineCliOptions {
  model: string;
  bench?: string[];
  file: [string, string][];
  dataDir?: string;
  limit?: number;
  maxNewTokens: number;
  k: number;
  temperature: number;
  topP: number;
  protocol: [string, string][];
  seed: number;
  out?: string;
  /** undefined: the qwen25-math-cot prompt; false (--no-system): none. */
  system?: string | boolean;
  reflectionWords?: string[];
  inflections?: boolean;
  maxBatch: number;
  workers: number;
  timeoutMs: number;
  saveResponses?: boolean;
  /** How answers are graded (default "qwen-math", the protocol behind the paper's numbers). */
  grader?: string;
}

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Time left at the rate so far ("?" before the first response). */
const eta = (done: number, total: number, seconds: number) => (done > 0 ? formatDuration((seconds * (total - done)) / done) : "?");

/**
 * Progress on stderr: on a TTY a bar redrawn after each decode step (at most once a second, and
 * whenever a batch of responses completes); otherwise one plain line per completed batch.
 */
class EvalProgress {
  private bar = "";
  private lastDraw = -Infinity;
  private tokens = 0;
  constructor(private readonly out: Io["stderr"]) {}
  private get tty(): boolean {
    return this.out.isTTY === true;
  }
  log(message: string): void {
    if (this.tty && this.bar) this.out.write(`\r\x1b[K${message}\n${this.bar}`);
    else this.out.write(`${message}\n`);
  }
  /** After a decode step (TTY only): rows done, tokens generated so far. */
  decoding(name: string, done: number, total: number, tokens: number, seconds: number): void {
    this.tokens = tokens;
    if (!this.tty || performance.now() - this.lastDraw < 1000) return;
    this.draw(name, done, total, seconds);
  }
  /** A batch of responses completed. */
  generated(name: string, done: number, total: number, seconds: number): void {
    if (this.tty) this.draw(name, done, total, seconds);
    else this.out.write(`${name}: generated ${done}/${total} responses (${formatDuration(seconds)}, ETA ${eta(done, total, seconds)})\n`);
  }
  private draw(name: string, done: number, total: number, seconds: number): void {
    const width = 24, filled = Math.round((width * done) / Math.max(1, total));
    const rate = this.tokens > 0 && seconds > 0 ? ` ${Math.round(this.tokens / seconds)} tok/s` : "";
    this.bar = `${name} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} responses${rate} ${formatDuration(seconds)} ETA ${eta(done, total, seconds)}`;
    this.bar = this.bar.slice(0, Math.max(20, (this.out.columns ?? 120) - 1));
    this.out.write(`\r\x1b[K${this.bar}`);
    this.lastDraw = performance.now();
  }
  clear(): void {
    if (this.tty && this.bar) this.out.write("\r\x1b[K");
    this.bar = "";
    this.tokens = 0;
    this.lastDraw = -Infinity;
  }
}

/** The benchmark list and the file of each: --bench (default: the paper's six unless only --file is given) plus every --file name. */
export function planBenchmarks(o: Pick<EvalCliOptions, "bench" | "file" | "dataDir">): { names: string[]; files: Record<string, string> } {
  const files: Record<string, string> = {};
  for (const [name, path] of o.file) files[name] = resolve(path);
  const names = [...(o.bench ?? (o.file.length > 0 ? [] : [...EVAL_BENCHMARKS]))];
  for (const name of Object.keys(files)) if (!names.includes(name)) names.push(name);
  if (names.length === 0) throw new DataError("no benchmarks: give --bench NAMES and/or --file NAME=PATH");
  for (const name of names) {
    if (files[name] !== undefined) continue;
    if (!(name in EVAL_FIELDS)) {
      throw new DataError(`unknown benchmark "${name}": known are ${Object.keys(EVAL_FIELDS).join(", ")}; for a custom set give --file ${name}=PATH (JSONL with "problem" and "answer")`);
    }
    files[name] = resolveBenchmarkFile(name, o.dataDir);
  }
  return { names, files };
}

/** Loads the benchmarks with their protocols (paper defaults, --k/--temperature/--top-p, then --protocol). */
export function planEvalSets(o: EvalCliOptions): { sets: EvalSet[]; files: Record<string, string> } {
  const { names, files } = planBenchmarks(o);
  const sampled = { temperature: o.temperature, topP: o.topP };
  const overrides = new Map<string, string>();
  for (const [name, spec] of o.protocol) {
    if (!names.includes(name)) throw new DataError(`--protocol ${name}=${spec}: "${name}" is not among the benchmarks (${names.join(", ")})`);
    overrides.set(name, spec);
  }
  const sets = names.map((name): EvalSet => {
    let protocol = defaultProtocol(name);
    if (protocol.samples > 1 || protocol.temperature > 0) protocol = { ...sampled, samples: o.k };
    const spec = overrides.get(name);
    if (spec !== undefined) {
      try {
        protocol = parseProtocol(spec, sampled);
      } catch (e) {
        throw new DataError(`--protocol ${name}=${spec}: ${(e as Error).message}`);
      }
    }
    const all = loadBenchmarkFile(name, files[name]!);
    return { name, examples: o.limit === undefined ? all : all.slice(0, o.limit), file: files[name]!, ...protocol };
  });
  return { sets, files };
}

/** Runs the whole evaluation; prints the Markdown report to stdout and writes --out. */
export async function runEval(o: EvalCliOptions, io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<EvalReport> {
  const progress = new EvalProgress(io.stderr);
  const { sets, files } = planEvalSets(o); // all data first: a bad file fails before the model loads
  const systemPrompt = o.system === false ? "" : typeof o.system === "string" ? o.system : QWEN_MATH_COT_SYSTEM;
  const reflection = { ...(o.reflectionWords ? { words: o.reflectionWords } : {}), inflections: o.inflections === true };
  const grader: GraderName = checkGraderName(o.grader ?? "qwen-math", "--grader");
  reflectionMatchers(reflection); // a bad word list fails before the model loads

  const m = await loadModelDir(o.model);
  const engine = Engine.fromWeights(m.config, m.weights!, engineOptions(o));
  progress.log(`eval ${resolve(o.model)}: ${sets.map((s) => `${s.name} ${s.examples.length}× ${protocolLabel(s)}`).join("; ")}; max ${o.maxNewTokens} tokens`);
  const pool = new VerifierPool({ size: o.workers, timeoutMs: o.timeoutMs });
  const results: EvalSetResult[] = [];
  try {
    const ctx = {
      engine, tokenizer: m.tokenizer, eosIds: stopTokenIds(m.tokenizer, m.eosTokenIds), systemPrompt, maxNewTokens: o.maxNewTokens,
      maxBatch: o.maxBatch, seed: o.seed, pool, timeoutMs: o.timeoutMs, grader,
    };
    for (const set of sets) {
      const t0 = performance.now();
      progress.log(`${set.name}: ${set.examples.length} problems, ${protocolLabel(set)} (${set.file})`);
      const r = await evaluateSet(ctx, set, {
        onGenerate: (done, total) => progress.generated(set.name, done, total, (performance.now() - t0) / 1000),
        onDecodeStep: (p, seconds) => progress.decoding(set.name, p.rowsDone, p.rowsTotal, p.tokens, seconds),
      });
      progress.clear();
      const skipped = r.problems.filter((p) => p.skipped).length;
      progress.log(
        `${set.name}: ${(100 * r.accuracy).toFixed(1)}% (${r.correct}/${r.total}) in ${formatDuration(r.seconds)}` +
          (skipped ? `; ${skipped} prompt(s) longer than the ${m.config.maxPositionEmbeddings}-token context counted as wrong` : ""),
      );
      results.push(r);
    }
  } finally {
    progress.clear();
    await pool.close();
  }
  const report = buildEvalReport(results, {
    model: resolve(o.model), systemPrompt, maxTokens: o.maxNewTokens, seed: o.seed, limit: o.limit ?? null, grader,
    files, reflection, responses: o.saveResponses === true,
  });
  io.stdout.write(evalMarkdown(report));
  if (o.out) {
    const written = writeEvalReport(o.out, report);
    progress.log(`wrote ${written.json} and ${written.markdown}`);
  }
  return report;
}

export function evalCommand(io?: Io): Command {
  return withMaxNewTokens(withEngineOptions(new Command("eval")), "new tokens per response (eval.maxNewTokens)", 3072)
    .description("evaluate a model on the paper's math benchmarks (Qwen2.5-Math protocol): accuracy, response lengths, self-reflection words")
    .requiredOption("--model <dir>", "Hugging Face model directory")
    .option("--bench <names>", `comma-separated benchmarks (default: ${EVAL_BENCHMARKS.join(",")}; none when only --file is given)`, list)
    .option("--file <name=path>", "a benchmark from a JSONL file: {problem, answer} rows or verl rows; a known name keeps its field mapping (repeatable)", pair("NAME=PATH"), [])
    .option("--data-dir <dir>", "data folder holding datasets/eval/<name>/test.jsonl (default: the shared folder, ../shared or RLVR_SHARED_DIR)")
    .option("--limit <n>", "first n problems of each benchmark", intOption(1))
    .option("--k <n>", "samples per problem for the avg@k benchmarks (aime24, aime25, amc23)", intOption(1), 8)
    .option("--temperature <t>", "sampling temperature of the avg@k benchmarks", numberOption(0, 100, true), 0.6)
    .option("--top-p <p>", "nucleus mass of the avg@k benchmarks", numberOption(0, 1, true), 1)
    .option("--protocol <name=spec>", 'override one benchmark\'s protocol: "greedy" or "avg@K" (repeatable)', pair("NAME=greedy or NAME=avg@K"), [])
    .option("--seed <s>", "sampling seed", intOption(0), 0)
    .option("--out <dir>", "write eval.json and eval.md here")
    .option("--system <text>", "system prompt (default: the qwen25-math-cot one)")
    .option("--no-system", "no system prompt")
    .option("--reflection-words <list>", "comma-separated self-reflection words to count (default: @rlvr/data's list)", list)
    .option("--inflections", "also count inflected forms of the reflection words (rechecking, recalculated)")
    .option("--max-batch <n>", "rows per generation batch (bounds KV-cache memory)", intOption(1), 64)
    .option("--workers <n>", "verifier worker threads", intOption(1), Math.min(2, availableParallelism()))
    .option("--timeout-ms <ms>", "verifier time limit per response", intOption(1), DEFAULT_TIMEOUT_MS)
    .option("--save-responses", "keep each response's text in eval.json")
    .option("--grader <name>", `how answers are graded: ${GRADER_NAMES.join(", ")} (default qwen-math: the Qwen2.5-Math protocol behind the paper's numbers)`, "qwen-math")
    .action(async (o: EvalCliOptions) => {
      await runEval(o, io);
    });
}
