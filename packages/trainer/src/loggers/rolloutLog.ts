// <run>/rollouts/step-NNNNNN.jsonl: what the model wrote at a step, one line per response, so a
// run can be read later (verl: rollout_data_dir; TRL: log_completions).
import { join } from "node:path";

import { writeFileAtomic } from "@rlvr/data";

export const ROLLOUTS_DIR = "rollouts";

/** One response of a step, as written to its rollouts file. */
export interface RolloutRecord {
  step: number;
  /** Index of the training example in the data file. */
  example: number;
  prompt: string;
  response: string;
  reward: number;
  correct: boolean;
  /** The answer the grader extracted, or null when there was none. */
  extracted: string | null;
  gold: string;
  finish_reason: string;
  /** Response length in tokens. */
  length: number;
}

export const rolloutFileName = (step: number) => `step-${String(step).padStart(6, "0")}.jsonl`;

/** Whether a step's rollouts are saved: every `freq` steps (0: never) and always the last step. */
export function savesRollouts(step: number, freq: number, totalSteps: number): boolean {
  return freq > 0 && (step % freq === 0 || step === totalSteps);
}

/** Writes one step's rollouts atomically (a resumed step rewrites its file whole). Returns the path. */
export function writeRolloutLog(runDir: string, step: number, records: readonly RolloutRecord[]): string {
  const path = join(runDir, ROLLOUTS_DIR, rolloutFileName(step));
  writeFileAtomic(path, records.map((r) => JSON.stringify(r)).join("\n") + (records.length > 0 ? "\n" : ""));
  return path;
}

/** A short markdown view of a few rollouts, for TensorBoard's Text tab. */
export function rolloutsMarkdown(records: readonly RolloutRecord[], limit = 4): string {
  const fence = (s: string) => `\`\`\`\n${s.replace(/```/g, "ˋˋˋ")}\n\`\`\``;
  return records
    .slice(0, limit)
    .map((r, i) =>
      `**sample ${i + 1}** (example ${r.example}, reward ${r.reward}, ${r.correct ? "correct" : "wrong"}, ` +
      `extracted ${r.extracted === null ? "none" : `\`${r.extracted}\``}, gold \`${r.gold}\`, ${r.length} tokens, ${r.finish_reason})\n\n` +
      `${fence(r.response)}`,
    )
    .join("\n\n---\n\n");
}
