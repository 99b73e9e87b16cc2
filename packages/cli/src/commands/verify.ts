import { Command } from "commander";
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";

import { checkGraderName, checkTimeLimitMs, verifyJsonl, VerifierPool, DEFAULT_TIMEOUT_MS, GRADER_NAMES, MAX_TIMEOUT_MS, type Fallback, type VerifyOptions } from "@rlvr/verifier";
import { withRenamedOption } from "../options.js";

interface VerifyFlags {
  input?: string;
  output?: string;
  response?: string;
  gold?: string;
  workers?: string;
  timeoutMs: string;
  fallback: Fallback[];
  grader: string;
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

async function verifyFile(flags: VerifyFlags, pool: VerifierPool, options: VerifyOptions): Promise<void> {
  const out = flags.output ? createWriteStream(flags.output) : process.stdout;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  };
  const summary = await verifyJsonl(createReadStream(flags.input!), write, pool, options);
  if (flags.output) {
    out.end();
    await once(out, "finish");
  }
  const rate = summary.total === 0 ? 0 : (100 * summary.correct) / summary.total;
  process.stderr.write(
    `verified ${summary.total} lines: ${summary.correct} correct (${rate.toFixed(1)}%), ` +
      `${summary.invalid} invalid, ${summary.timeouts} timed out\n`,
  );
  if (summary.invalid > 0) process.exitCode = 1;
}

/** `rlvr verify`: checks model answers against gold answers (rule-based reward). */
export function verifyCommand(): Command {
  return withRenamedOption(
    new Command("verify"),
    { name: "timeout-ms", old: "timeout", arg: "ms", attribute: "timeoutMs" },
    `hard limit per verification, 1 to ${MAX_TIMEOUT_MS} ms (reward.timeoutMs in training)`,
    String,
    String(DEFAULT_TIMEOUT_MS),
  )
    .description("verify model responses against gold answers (1 = correct, 0 = not)")
    .option("--input <file>", "JSONL file: one {\"response\", \"gold\", ...} object per line")
    .option("--output <file>", "write JSONL results here (default: stdout)")
    .option("--response <text>", "verify a single response ...")
    .option("--gold <text>", "... against this gold answer")
    .option("--workers <n>", "worker threads (default: min(2, cores))")
    .option("--fallback <kind...>", "also accept unboxed answers: final-answer, answer-label", [])
    .option("--grader <name>", `how answers are read and compared: ${GRADER_NAMES.join(", ")} (qwen-math: the Qwen2.5-Math evaluation protocol)`, "boxed")
    .action(async (flags: VerifyFlags) => {
      const single = flags.response !== undefined || flags.gold !== undefined;
      if (single === (flags.input !== undefined)) throw new Error("give either --input FILE or both --response and --gold");
      if (single && (flags.response === undefined || flags.gold === undefined)) throw new Error("--response and --gold go together");
      const bad = flags.fallback.filter((f) => f !== "final-answer" && f !== "answer-label");
      if (bad.length > 0) throw new Error(`unknown --fallback ${bad.join(", ")}: use final-answer or answer-label`);
      const options = { timeoutMs: checkTimeLimitMs(flags.timeoutMs, "--timeout-ms"), fallbacks: flags.fallback, grader: checkGraderName(flags.grader, "--grader") };
      const pool = new VerifierPool({ size: single ? 1 : flags.workers ? positiveInt("workers", flags.workers) : undefined });
      try {
        if (single) {
          const result = await pool.verify(flags.response!, flags.gold!, options);
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } else {
          await verifyFile(flags, pool, options);
        }
      } finally {
        await pool.close();
      }
    });
}
