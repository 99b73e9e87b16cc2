// Trainer checkpoints: <run>/checkpoints/step-000020/{model/, trainer_state.json, acc_history.json,
// optimizer.safetensors, and for PPO critic/{model.safetensors, config.json, optimizer.safetensors}}.
// A checkpoint is built in a temp folder beside its target and renamed into place, then the
// `latest` pointer is rewritten atomically, so a crash at any point leaves the previous good
// checkpoint (and the pointer to it) intact. manifest.json (size and SHA-256 of every file) is
// written last; resume verifies against it and falls back past a damaged checkpoint.
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

import { writeFileAtomic } from "@rlvr/data";
import type { OptimizerState } from "@rlvr/engine";
import { SafetensorsFile, saveCheckpoint, writeSafetensors, type ModelConfig, type TensorData } from "@rlvr/model";

import { readManifest, verifyManifest, writeFileDurable, writeManifest } from "./manifest.js";
import { RunFileError, fsErrorMessage } from "./runFiles.js";

export const STATE_FILE = "trainer_state.json";
export const HISTORY_FILE = "acc_history.json";
export const LATEST_FILE = "latest";
export const OPTIMIZER_FILE = "optimizer.safetensors";
export const CRITIC_DIR = "critic";

export interface TrainerState {
  version: 1;
  /** Optimizer steps completed (the 1-based step of the last finished training step). */
  step: number;
  /** AdamW steps the engine has taken (its bias-correction counter). */
  adamwSteps: number;
  /** trainer.seed; the rollout seed of step s and the data order of epoch e derive from it. */
  seed: number;
  /** Wall-clock seconds of the run up to this checkpoint (metrics `time` continues from it). */
  elapsed: number;
  /** Per-example rollout counts of the epoch in progress: index → [correct, total]. */
  epochCounts: [number, number, number][];
  /** The epoch those counts belong to. */
  epoch: number;
  /** Generated tokens so far. */
  tokens: number;
  /** The AdamW moments and step count, beside this file (so a resumed run continues bit for bit). */
  optimizerFile: typeof OPTIMIZER_FILE;
  savedAt: string;
}

export const checkpointName = (step: number) => `step-${String(step).padStart(6, "0")}`;

export interface ModelToSave {
  config: ModelConfig;
  weights: ReadonlyMap<string, TensorData>;
  /** Folder to copy the tokenizer files from (the base model). */
  tokenizerDir: string;
  rawConfig?: Record<string, unknown>;
  rawGenerationConfig?: Record<string, unknown>;
  dtype: "F32" | "BF16";
}

/** PPO's critic in a checkpoint: its weights (score.* included) and AdamW state. */
export interface CriticToSave {
  weights: ReadonlyMap<string, TensorData>;
  optimizer: OptimizerState;
  /** The base model's config.json; the critic's is the same with a token-classification head. */
  rawConfig?: Record<string, unknown>;
}

/** Writes checkpoint `step` atomically and points `latest` at it. Returns its folder. */
export async function writeTrainerCheckpoint(
  runDir: string,
  model: ModelToSave,
  state: TrainerState,
  historyText: string,
  optimizer: OptimizerState,
  critic?: CriticToSave,
): Promise<string> {
  const root = join(runDir, "checkpoints");
  try {
    await mkdir(root, { recursive: true });
  } catch (e) {
    throw new RunFileError(fsErrorMessage(e, root, "create"), root, (e as NodeJS.ErrnoException).code);
  }
  const name = checkpointName(state.step);
  const final = join(root, name);
  const tmp = join(root, `.tmp-${name}-${randomBytes(4).toString("hex")}`);
  try {
    await saveCheckpoint(join(tmp, "model"), model.config, model.weights, model.tokenizerDir, {
      dtype: model.dtype,
      ...(model.rawConfig ? { baseConfig: model.rawConfig } : {}),
      ...(model.rawGenerationConfig ? { baseGenerationConfig: model.rawGenerationConfig } : {}),
    });
    writeFileAtomic(join(tmp, HISTORY_FILE), historyText);
    await writeOptimizerState(join(tmp, OPTIMIZER_FILE), optimizer);
    if (critic) await writeCritic(join(tmp, CRITIC_DIR), critic);
    writeFileAtomic(join(tmp, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
    // the manifest goes last: its presence marks a complete checkpoint, its hashes a sound one
    await writeManifest(tmp);
    let old: string | null = null;
    if (existsSync(final)) {
      old = join(root, `.old-${name}-${randomBytes(4).toString("hex")}`);
      renameSync(final, old);
    }
    renameSync(tmp, final);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) throw new RunFileError(`${fsErrorMessage(e, final, "write checkpoint")} (the previous checkpoints are intact)`, final, code);
    throw e;
  }
  try {
    writeFileDurable(join(root, LATEST_FILE), `${name}\n`);
  } catch (e) {
    // the checkpoint itself is complete; resume finds it without the pointer
    throw new RunFileError(fsErrorMessage(e, join(root, LATEST_FILE), "write"), join(root, LATEST_FILE), (e as NodeJS.ErrnoException).code);
  }
  return final;
}

export interface FoundCheckpoint {
  dir: string;
  modelDir: string;
  state: TrainerState;
  historyText: string | null;
}

function readCheckpoint(dir: string): FoundCheckpoint | null {
  try {
    const state = JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as TrainerState;
    if (state.version !== 1 || !Number.isInteger(state.step)) return null;
    if (!existsSync(join(dir, "model", "config.json"))) return null;
    const h = join(dir, HISTORY_FILE);
    return { dir, modelDir: join(dir, "model"), state, historyText: existsSync(h) ? readFileSync(h, "utf8") : null };
  } catch {
    return null;
  }
}

/** Complete checkpoints of a run, oldest first. */
export function listCheckpoints(runDir: string): FoundCheckpoint[] {
  const root = join(runDir, "checkpoints");
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => /^step-\d+$/.test(n) && statSync(join(root, n)).isDirectory())
    .map((n) => readCheckpoint(join(root, n)))
    .filter((c): c is FoundCheckpoint => c !== null)
    .sort((a, b) => a.state.step - b.state.step);
}

/** The last good checkpoint: the `latest` pointer if it is complete, else the newest complete one. */
export function findLatestCheckpoint(runDir: string): FoundCheckpoint | null {
  const pointer = join(runDir, "checkpoints", LATEST_FILE);
  const all = listCheckpoints(runDir);
  if (existsSync(pointer)) {
    const name = readFileSync(pointer, "utf8").trim();
    const c = /^step-\d+$/.test(name) ? readCheckpoint(join(runDir, "checkpoints", name)) : null;
    // a newer complete checkpoint than the pointer can exist if we crashed between the rename and the pointer write
    if (c && !all.some((x) => x.state.step > c.state.step)) return c;
  }
  return all.at(-1) ?? null;
}

/**
 * Complete checkpoints of a run, newest first: what resume tries in turn (the newest one whose
 * files verify and load wins).
 */
export function resumeCandidates(runDir: string): FoundCheckpoint[] {
  return listCheckpoints(runDir).reverse();
}

/**
 * Checks a checkpoint's files against its manifest (sizes and SHA-256). Null when sound;
 * "unverified" when it predates manifests; else what is wrong, naming the file.
 */
export async function verifyCheckpoint(c: FoundCheckpoint): Promise<string | null | "unverified"> {
  let m;
  try {
    m = readManifest(c.dir);
  } catch (e) {
    return `${join(c.dir, "manifest.json")} is unreadable (${(e as Error).message})`;
  }
  if (m === null) return "unverified";
  return verifyManifest(c.dir, m);
}

/**
 * Leftovers of interrupted writes: `.tmp-step-*` under checkpoints/ (each a partial checkpoint)
 * and the `.<12 hex>.tmp` files of atomic file writes there and in the run folder. (`.old-step-*`,
 * a replaced checkpoint moved aside for an instant, is left alone: it can be the only copy of
 * that step.)
 */
export function checkpointLeftovers(runDir: string): string[] {
  const list = (dir: string, re: RegExp) => (existsSync(dir) ? readdirSync(dir).filter((n) => re.test(n)).map((n) => join(dir, n)) : []);
  const root = join(runDir, "checkpoints");
  return [...list(root, /^\.tmp-step-\d+-[0-9a-f]+$|^\.[0-9a-f]{12}\.tmp$/), ...list(runDir, /^\.[0-9a-f]{12}\.tmp$/)];
}

/** Removes all but the newest `keep` complete checkpoints (never the latest). */
export function pruneCheckpoints(runDir: string, keep: number): void {
  const all = listCheckpoints(runDir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) rmSync(c.dir, { recursive: true, force: true });
}

/**
 * The critic as a Hugging Face token-classification model (num_labels 1: verl's critic), f32
 * so a resumed run continues bit for bit, with its AdamW state beside it.
 */
async function writeCritic(dir: string, c: CriticToSave): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, "model.safetensors"), c.weights, { dtype: "F32", metadata: { format: "pt" } });
  const raw = c.rawConfig ?? {};
  const archs = Array.isArray(raw.architectures) ? (raw.architectures as string[]) : [];
  const config = {
    ...raw,
    architectures: archs.map((a) => a.replace(/ForCausalLM$/, "ForTokenClassification")),
    num_labels: 1,
    id2label: { "0": "LABEL_0" },
    label2id: { LABEL_0: 0 },
    torch_dtype: "float32",
  };
  writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
  await writeOptimizerState(join(dir, OPTIMIZER_FILE), c.optimizer);
}

/** The critic of a checkpoint written by a PPO run, or null when it has none. */
export async function readCriticCheckpoint(
  checkpointDir: string,
): Promise<{ weights: Map<string, TensorData>; optimizer: OptimizerState } | null> {
  const dir = join(checkpointDir, CRITIC_DIR);
  if (!existsSync(join(dir, "model.safetensors"))) return null;
  const file = await SafetensorsFile.open(join(dir, "model.safetensors"));
  const weights = new Map<string, TensorData>();
  try {
    for (const n of file.names()) weights.set(n, { shape: [...file.info(n).shape], data: await file.readFloat32(n) });
  } finally {
    await file.close();
  }
  return { weights, optimizer: await readOptimizerState(dir) };
}

/** AdamW moments as f32 tensors "<param>.exp_avg" / "<param>.exp_avg_sq" (PyTorch's names), step in the metadata. */
async function writeOptimizerState(path: string, o: OptimizerState): Promise<void> {
  const tensors = new Map<string, TensorData>();
  for (const [name, { m, v }] of o.moments) {
    tensors.set(`${name}.exp_avg`, { shape: [m.length], data: m });
    tensors.set(`${name}.exp_avg_sq`, { shape: [v.length], data: v });
  }
  await writeSafetensors(path, tensors, { dtype: "F32", metadata: { step: String(o.step) } });
}

/** Reads the AdamW state of a checkpoint written by writeTrainerCheckpoint. */
export async function readOptimizerState(checkpointDir: string): Promise<OptimizerState> {
  const file = await SafetensorsFile.open(join(checkpointDir, OPTIMIZER_FILE));
  try {
    const step = Number(file.metadata?.step);
    if (!Number.isInteger(step) || step < 0) throw new Error(`${join(checkpointDir, OPTIMIZER_FILE)}: metadata "step" must be a non-negative integer`);
    const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
    for (const t of file.names()) {
      if (!t.endsWith(".exp_avg")) continue;
      const name = t.slice(0, -".exp_avg".length);
      moments.set(name, { m: await file.readFloat32(t), v: await file.readFloat32(`${name}.exp_avg_sq`) });
    }
    return { step, moments };
  } finally {
    await file.close();
  }
}
