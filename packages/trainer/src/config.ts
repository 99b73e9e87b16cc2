// The trainer's configuration: one zod schema whose defaults are the paper's 1-shot recipe
// (spec section 5), named presets that supply partial configs, a YAML/JSON file and
// `key=value` overrides. Resolution order: defaults ← preset ← file ← --set.
import { existsSync, readFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";

import { DEFAULT_REFLECTION_WORDS } from "@rlvr/data";
import { GRADER_NAMES } from "@rlvr/verifier";
import { canonicalKey, suggestKey } from "./configAliases.js";
import { LOGGER_NAMES } from "./loggers/runLoggers.js";

/** A configuration problem; `key` is the dotted config key (e.g. "actor.lr"). */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

/** The Qwen2.5-Math evaluation system prompt (qwen25-math-cot, spec section 7). */
export const QWEN_MATH_COT_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}.";

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const finiteNum = z.number().refine(Number.isFinite, "must be a finite number");
const nonNeg = finiteNum.refine((x) => x >= 0, "must be >= 0");
const positive = finiteNum.refine((x) => x > 0, "must be > 0");
const unit = finiteNum.refine((x) => x >= 0 && x <= 1, "must be in [0, 1]");

export const ADV_ESTIMATORS = ["grpo", "gae"] as const;
export const KL_TYPES = ["kl", "abs", "mse", "low_var_kl"] as const;
/**
 * Loss aggregation over a mini-batch's response tokens. "seq-mean-token-sum-norm" is Dr. GRPO's:
 * each response's token sum divided by a constant (data.maxResponseLength, not the response's own
 * length), averaged over responses, so long responses are not down-weighted per token.
 */
export const LOSS_AGG_MODES = ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"] as const;
export const CHECKPOINT_DTYPES = ["float32", "bfloat16"] as const;
export const ENGINE_BACKENDS = ["cpu", "ops-cpu", "cuda"] as const;

const ModelSection = z.strictObject({
  /** Hugging Face model directory (config.json, safetensors, tokenizer). Required (a preset may supply it). */
  path: z.string().min(1, "is required: a Hugging Face model directory"),
  /** Storage dtype of the trainer's checkpoints; float32 makes resume exact. */
  checkpointDtype: z.enum(CHECKPOINT_DTYPES).default("float32"),
  /**
   * Engine implementation for the actor and the reference (@rlvr/engine EngineBackend): "cpu"
   * (the CPU engine), "ops-cpu" (OpsModel on the CPU ops, for testing the
   * device path) or "cuda" (OpsModel on a GPU), all with the same features.
   */
  backend: z.enum(ENGINE_BACKENDS).default("cpu"),
  /** CUDA device ordinal (backend "cuda"). */
  device: nonNegInt.default(0),
  /** OpsModel backends: bf16 operands in every linear-layer GEMM (fp32 master weights and accumulation). */
  bf16Gemm: z.boolean().default(false),
  /**
   * MiB a training pass may spend keeping every layer's activations for the backward (actor and
   * critic); past it each layer's forward is recomputed before its backward, with the same
   * gradients bit for bit. Unset: the backend's default (1 GiB on CPU, 40 GiB on "cuda").
   */
  activationBudgetMB: nonNeg.optional(),
  /**
   * "cuda": the share of the device's free memory (at the start) the run plans to use; the plan
   * (memoryPlan.ts, logged at the start) fits the engines' state, the rollout's KV cache and the
   * update's workspace in it, and gives the rest to kept activations unless activationBudgetMB
   * is set. A run that cannot fit stops before allocating, naming the setting to lower.
   */
  deviceMemoryFraction: unit.refine((x) => x > 0, "must be in (0, 1]").default(0.9),
});

const DataSection = z.strictObject({
  /** verl-style training rows (.parquet or .jsonl). Required (a preset may supply it). */
  train: z.string().min(1, "is required: a verl .parquet or .jsonl file"),
  /** Prompts per step (each sampled rollout.n times). */
  trainBatchSize: posInt.default(128),
  maxPromptLength: posInt.default(1024),
  maxResponseLength: posInt.default(3072),
  /** Shuffle the rows every epoch (seeded by trainer.seed and the epoch). */
  shuffle: z.boolean().default(true),
  /** Wrong-label ablation: replace every gold with a generated wrong answer, its value shifted by a random integer (@rlvr/data applyWrongLabels). */
  wrongLabels: z.boolean().default(false),
  /**
   * Wrong-label ablation as the paper ran it: train against this label (every row; the data must
   * be copies of one example). The paper's pi_1 runs: 12.7, 4 and 9292725 (its stored gold is 12.8).
   */
  wrongLabel: z.union([z.string().min(1), finiteNum]).nullable().default(null),
  wrongLabelSeed: nonNegInt.default(0),
});

const AlgorithmSection = z.strictObject({
  /** grpo (group-normalized outcome advantages) or gae (PPO with a critic: the `critic` section). */
  advEstimator: z.enum(ADV_ESTIMATORS).default("grpo"),
  /** GRPO: divide by (unbiased std + eps); false is the Dr. GRPO variant. */
  normStd: z.boolean().default(true),
  eps: positive.default(1e-6),
  gamma: unit.default(1),
  lambda: unit.default(1),
});

const RolloutSection = z.strictObject({
  n: posInt.default(8),
  /** Sampling temperature; also the τ of the old, reference and current log-probs. */
  temperature: positive.default(0.6),
  topP: finiteNum.refine((x) => x > 0 && x <= 1, "must be in (0, 1]").default(1),
  /** 0 = off. */
  topK: nonNegInt.default(0),
  /** Sequences decoded together (bounds the KV cache). */
  maxBatch: posInt.default(64),
  /**
   * Benchmarks only (timing a step on any weights, random ones included): every response ends
   * at a length drawn uniformly from [min, max] (finish "eos"), whatever the model generates;
   * [L, L] with L = data.maxResponseLength forces every response to full length. null: off.
   */
  benchLengths: z
    .tuple([posInt, posInt])
    .refine(([a, b]) => a <= b, "must be [min, max] with min <= max")
    .nullable()
    .default(null),
});

const ActorSection = z.strictObject({
  lr: nonNeg.default(1e-6),
  /** Linear warm-up steps (0 = the paper's constant lr). */
  lrWarmupSteps: nonNegInt.default(0),
  betas: z.tuple([unit, unit]).default([0.9, 0.999]),
  eps: positive.default(1e-8),
  /** Decoupled AdamW weight decay (switch it off with loss.weightDecay=false). */
  weightDecay: nonNeg.default(0.01),
  /** Global gradient-norm clip; 0 disables. */
  gradClip: nonNeg.default(1.0),
  /** Prompts per optimizer step (× rollout.n responses); must divide data.trainBatchSize. */
  ppoMiniBatchSize: posInt.default(128),
  /** Responses per forwardBackward call (gradient accumulation; does not change the gradient). */
  microBatchSize: posInt.default(8),
  /**
   * Token budget of one forwardBackward call (actor and critic): responses x the longest prompt
   * + response among them (verl's ppo_max_token_len_per_gpu); micro-batches end at
   * microBatchSize responses or at this budget, whichever comes first, so long responses get
   * smaller micro-batches and short ones larger. Bounds the update's activation memory. 0 = no
   * budget. Changes gradients only in fp32 summation order (weights span the mini-batch).
   */
  maxTokensPerMicroBatch: nonNegInt.default(0),
  /**
   * Most responses per scoring call (reference / recomputed old log-probs, critic values): no
   * backward, so larger than microBatchSize pays (verl's log_prob_micro_batch_size); each call
   * also stays within logProbMaxTokens. The results do not depend on either (scoring is
   * row-independent, bit for bit); fewer calls are faster (shared prompts run once per call).
   */
  logProbMicroBatchSize: posInt.default(256),
  /**
   * Token budget of one scoring call: responses x the longest prompt + response among them
   * (verl's log_prob_max_token_len_per_gpu); bounds the call's activation memory (about
   * 140 KB per token for Qwen2.5-1.5B on the CPU engine). A longer single response still runs.
   */
  logProbMaxTokens: posInt.default(16384),
  ppoEpochs: posInt.default(1),
  clipLow: nonNeg.default(0.2),
  clipHigh: nonNeg.default(0.2),
  /** Dual clip constant c > 1 for A < 0; 0 = off. */
  dualClip: finiteNum.refine((x) => x === 0 || x > 1, "must be 0 (off) or > 1").default(0),
  /** Policy-gradient coefficient (loss.policy=false sets it to 0). */
  pgCoef: nonNeg.default(1),
  klType: z.enum(KL_TYPES).default("low_var_kl"),
  klCoef: nonNeg.default(0.001),
  /** The objective SUBTRACTS entropyCoeff·entropy: positive rewards higher entropy (paper: "−0.001"). */
  entropyCoeff: finiteNum.default(0.001),
  lossAgg: z.enum(LOSS_AGG_MODES).default("token-mean"),
  /**
   * Recompute old log-probs with a scoring pass. "auto" (the default) follows the backend: off
   * on cpu / ops-cpu, where the sampler's per-token log-probs equal engine.score() bit for bit
   * at the same temperature and the actor has not changed since the rollout, so they are the old
   * log-probs already; on "cuda", where decoding and the training forward are not proven to
   * compute the same bits (bf16 GEMMs over different shapes), recompute them.
   */
  recomputeOldLogp: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /**
   * Pack several responses into each engine row in the update and the critic passes (segment
   * ids; first-fit into rows as long as the micro-batch's longest sequence). Drops padding when
   * lengths vary; log-probs are unchanged bit for bit, gradients differ from unpacked only in
   * fp32 summation order. Off by default so runs repeat the unpacked results exactly.
   */
  packSequences: z.boolean().default(false),
});

/** Loss-term switches for the paper's ablation table (each on by default). */
const LossSection = z.strictObject({
  policy: z.boolean().default(true),
  kl: z.boolean().default(true),
  entropy: z.boolean().default(true),
  weightDecay: z.boolean().default(true),
});

/**
 * PPO's critic (algorithm.advEstimator = gae): the policy's body with a scalar value head,
 * initialized from model.path (head at zero), trained with the clipped value loss on the
 * actor's mini-/micro-batches and PPO epochs.
 */
const CriticSection = z.strictObject({
  lr: nonNeg.default(1e-5),
  /** Value clip range c of vf_loss. */
  cliprangeValue: positive.default(0.5),
  weightDecay: nonNeg.default(0.01),
  /** Global gradient-norm clip of the critic; 0 disables. */
  gradClip: nonNeg.default(1.0),
  /** Steps at the start that train only the critic (verl's critic_warmup). */
  warmupSteps: nonNegInt.default(0),
});

const RewardSection = z.strictObject({
  /**
   * Reward for a wrong answer that still has a boxed answer. 0 = the paper's 1/0 reward;
   * 1 = the format-reward baseline (any boxed answer is rewarded).
   */
  formatReward: unit.default(0),
  /** How answers are graded (@rlvr/verifier graders): "boxed" (the last \boxed{}, strict) or "qwen-math". */
  grader: z.enum(GRADER_NAMES).default("boxed"),
  /** Verifier worker threads. */
  workers: posInt.default(2),
  /** Hard time limit of one verification (ms): 1 <= t < 2^31 (Node's timer range). */
  timeoutMs: z
    .number()
    .int()
    .refine((x) => x >= 1 && x < 2 ** 31, "must be an integer from 1 to 2147483647 (ms; 2^31 - 1 is the most a timer takes)")
    .default(5000),
});

const EvalSection = z.strictObject({
  /** Benchmarks of @rlvr/data (math500, aime24, amc23, minerva_math, olympiadbench, aime25). */
  benchmarks: z.array(z.string().min(1)).default(["math500"]),
  /** Benchmark name → test.jsonl path, overriding the shared-folder default. */
  files: z.record(z.string(), z.string().min(1)).default({}),
  maxNewTokens: posInt.default(3072),
  /** Evaluate only the first N examples of each benchmark (null = all). */
  limit: posInt.nullable().default(null),
  systemPrompt: z.string().default(QWEN_MATH_COT_SYSTEM),
  /** How answers are graded: "qwen-math" (the Qwen2.5-Math protocol behind the paper's numbers) or "boxed". */
  grader: z.enum(GRADER_NAMES).default("qwen-math"),
  /** Also evaluate before the first step (verl's val_before_train). */
  beforeTrain: z.boolean().default(true),
});

const TrainerSection = z.strictObject({
  totalSteps: posInt.default(2000),
  /** Checkpoint every k steps (and at the last step); 0 = only at the end. */
  saveFreq: nonNegInt.default(20),
  /** Evaluate every k steps (and at the last step); 0 = never. */
  testFreq: nonNegInt.default(20),
  seed: nonNegInt.default(0),
  /** Run folder (metrics.jsonl, checkpoints/, acc_history.json); `rlvr train --out` overrides it. */
  outDir: z.string().min(1).default("runs/rlvr"),
  /** Keep only the newest k checkpoints (null = keep all). */
  keepCheckpoints: posInt.nullable().default(null),
  reflectionWords: z.array(z.string().min(1)).default([...DEFAULT_REFLECTION_WORDS]),
  /**
   * Where metrics go (src/loggers): "console" (progress lines) and "jsonl" (metrics.jsonl, always
   * written: resume and `rlvr report` read it); "tensorboard" event files under <run>/tensorboard
   * with verl's metric names; "wandb" the same files, for `wandb sync --sync-tensorboard`.
   */
  loggers: z.array(z.enum(LOGGER_NAMES)).default(["console", "jsonl"]),
  /** Project and experiment names for the loggers (experiment: the run folder's name when null). */
  project: z.string().min(1).default("rlvr"),
  experiment: z.string().min(1).nullable().default(null),
  /** Save the step's rollouts as rollouts/step-NNNNNN.jsonl every k steps and at the last step; 0 = never. */
  rolloutsFreq: nonNegInt.default(20),
});

/**
 * The divergence guard (src/guard.ts): stops a run that blew up before its state is saved as
 * progress (exit code 3 in the CLI); the last good checkpoint stays the newest.
 */
const GuardSection = z.strictObject({
  /**
   * After every optimizer step, read the weights back and check them (finite, |weight| <=
   * maxWeightAbs). Costs a copy of the parameters per update: small next to a step on the CPU
   * backends; on "cuda" it is a device-to-host copy of the whole model, so "auto" (the default)
   * turns it on for cpu / ops-cpu only. Checkpoints (weights and AdamW moments) are checked
   * before they are written either way.
   */
  checkEveryUpdate: z.union([z.boolean(), z.literal("auto")]).default("auto"),
  /** Largest |weight| taken as sound (0 = no bound); a blown-up update overshoots it by orders of magnitude. */
  maxWeightAbs: nonNeg.default(1e6),
  /** Consecutive skipped optimizer updates (non-finite gradient norm) tolerated; one more stops the run. */
  maxSkippedUpdates: nonNegInt.default(3),
  /** Stop when a step's mean policy entropy (nats) falls below this (0 = off). */
  minEntropy: nonNeg.default(0),
  /**
   * Stop when a step's mean policy entropy reaches this fraction of ln(vocab_size), the
   * entropy of uniform outputs: a model that collapsed to noise (1 = off).
   */
  maxEntropyFrac: unit.default(0.995),
});

export const TrainConfigSchema = z.strictObject({
  /** Name of a preset (see PRESETS) applied under the file and --set values. */
  preset: z.string().optional(),
  model: ModelSection.prefault({} as z.input<typeof ModelSection>),
  data: DataSection.prefault({} as z.input<typeof DataSection>),
  algorithm: AlgorithmSection.prefault({}),
  rollout: RolloutSection.prefault({}),
  actor: ActorSection.prefault({}),
  loss: LossSection.prefault({}),
  critic: CriticSection.prefault({}),
  reward: RewardSection.prefault({}),
  eval: EvalSection.prefault({}),
  trainer: TrainerSection.prefault({}),
  guard: GuardSection.prefault({}),
});

export type TrainConfig = z.infer<typeof TrainConfigSchema>;
/** A partial config (what a file, a preset or overrides supply). */
export type ConfigInput = { [k: string]: unknown };

export interface Preset {
  description: string;
  config: ConfigInput;
}

/**
 * Named partial configs. A preset may supply anything, including the required model and data
 * paths (a built-in tiny model preset can do that).
 */
export const PRESETS: Record<string, Preset> = {
  "1shot-grpo": { description: "the paper's 1-shot GRPO recipe (the defaults)", config: {} },
  "dr-grpo": {
    description: "Dr. GRPO: no std normalization of the advantages and no length normalization (seq-mean-token-sum-norm: token sums over data.maxResponseLength)",
    config: { algorithm: { normStd: false }, actor: { lossAgg: "seq-mean-token-sum-norm" } },
  },
  "entropy-only": {
    description: "entropy loss only: no policy-gradient loss (no outcome reward), no KL and no weight decay",
    config: { loss: { policy: false, kl: false, weightDecay: false } },
  },
  "format-reward": { description: "format reward: any boxed answer earns 1", config: { reward: { formatReward: 1 } } },
  "wrong-labels": { description: "train against wrong labels", config: { data: { wrongLabels: true } } },
  ppo: {
    description: "PPO with a critic: GAE (gamma 1, lambda 1) over a value-head copy of the model, critic lr 1e-5, value clip 0.5",
    config: { algorithm: { advEstimator: "gae" } },
  },
};

/** Registers a preset (e.g. a built-in model); later registrations replace earlier ones. */
export function registerPreset(name: string, preset: Preset): void {
  PRESETS[name] = preset;
}

const isPlain = (v: unknown): v is ConfigInput => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep merge of plain objects; arrays and scalars from `over` replace. */
export function mergeConfig(base: ConfigInput, over: ConfigInput): ConfigInput {
  const out: ConfigInput = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // a "__proto__" key in a file would set the merged object's prototype
    if (FORBIDDEN_KEYS.has(k)) throw new ConfigError(`config key "${k}" is not allowed (see --print-config for the keys)`, k);
    out[k] = isPlain(v) && isPlain(out[k]) ? mergeConfig(out[k] as ConfigInput, v) : v;
  }
  return out;
}

/** Reads a .json, .yaml or .yml config file. */
export function readConfigFile(path: string): ConfigInput {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ext = extname(path).toLowerCase();
  let value: unknown;
  try {
    value = ext === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${path}: not valid ${ext === ".json" ? "JSON" : "YAML"}: ${(e as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (!isPlain(value)) throw new ConfigError(`${path}: expected a mapping of config keys at the top level`);
  return value;
}

/**
 * The saved config of a run folder (<run>/config.json, the base of a resumed run's config), or
 * null when there is none. A damaged file is a ConfigError naming it and the fix.
 */
export function readRunConfig(runDir: string): ConfigInput | null {
  const path = resolve(join(runDir, "config.json"));
  if (!existsSync(path)) return null;
  const fix = `restore it, or move it away and give the run's settings with --config <file> (--resume reads the checkpoints either way)`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the run's saved config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): ${fix}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path}: the run's saved config is not valid JSON (${(e as Error).message}): ${fix}`);
  }
  if (!isPlain(value)) throw new ConfigError(`${path}: the run's saved config is not a JSON object of config keys: ${fix}`);
  return value;
}

/** Parses one `key=value` override; the value is read as a YAML scalar or flow collection (1e-6, true, [0.9, 0.99]). */
export function parseSet(text: string): { key: string; value: unknown } {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new ConfigError(`--set "${text}": expected key=value (e.g. actor.lr=1e-6)`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  if (!/^[A-Za-z_][\w-]*(\.[A-Za-z_0-9][\w-]*)*$/.test(key)) throw new ConfigError(`--set "${text}": "${key}" is not a dotted config key`, key);
  let value: unknown;
  try {
    value = raw.trim() === "" ? "" : parseYaml(raw);
  } catch {
    value = raw;
  }
  return { key, value };
}

/** Key parts that would reach Object.prototype instead of a config section. */
const FORBIDDEN_KEYS = new Set(["__proto__", "prototype", "constructor"]);

function checkKeyParts(key: string, where: string): string[] {
  const parts = key.split(".");
  const bad = parts.find((p) => FORBIDDEN_KEYS.has(p));
  if (bad !== undefined) throw new ConfigError(`${where}: "${bad}" is not a config key (see --print-config for the keys)`, key);
  return parts;
}

/** Sets a dotted key in a partial config (creating sections as needed). */
export function setKey(config: ConfigInput, key: string, value: unknown): ConfigInput {
  const parts = checkKeyParts(key, `--set "${key}"`);
  const out = structuredClone(config);
  let node: ConfigInput = out;
  for (const p of parts.slice(0, -1)) {
    if (!isPlain(node[p])) node[p] = {};
    node = node[p] as ConfigInput;
  }
  node[parts.at(-1)!] = value;
  return out;
}

/** The keys allowed under a dotted path of the schema ("" = the top level), or null. */
export function allowedKeys(path: readonly (string | number)[]): string[] | null {
  let schema: z.ZodType = TrainConfigSchema;
  for (const p of path) {
    const s = unwrap(schema);
    if (!(s instanceof z.ZodObject)) return null;
    const next = (s.shape as Record<string, z.ZodType>)[String(p)];
    if (!next) return null;
    schema = next;
  }
  const s = unwrap(schema);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : null;
}

/** Every dotted key of the schema, sections and leaves ("actor", "actor.lr", …); records are leaves. */
export function schemaKeys(prefix: readonly string[] = []): string[] {
  return (allowedKeys(prefix) ?? []).flatMap((k) => [[...prefix, k].join("."), ...schemaKeys([...prefix, k])]);
}

let knownKeys: Set<string> | null = null;
const isSchemaKey = (dotted: string) => (knownKeys ??= new Set(schemaKeys())).has(dotted);

/**
 * The input with verl's keys and snake_case spellings moved to rlvr's keys (configAliases.ts):
 * a key the schema knows stays where it is, and so does one with no alias (the schema then
 * reports it, with a suggestion).
 */
export function canonicalizeKeys(input: ConfigInput): ConfigInput {
  let out: ConfigInput = {};
  const walk = (node: ConfigInput, path: string[]) => {
    for (const [k, v] of Object.entries(node)) {
      const p = [...path, k];
      const dotted = p.join(".");
      if (isSchemaKey(dotted)) {
        // a known section: its children may still be aliases; a known leaf (records included) is kept whole
        if (isPlain(v) && allowedKeys(p) !== null) walk(v, p);
        else out = setKey(out, dotted, v);
        continue;
      }
      const to = canonicalKey(dotted, isSchemaKey);
      if (to !== null) out = setKey(out, to, v);
      else if (isPlain(v) && Object.keys(v).length > 0) walk(v, p); // verl's nesting (actor_rollout_ref.actor.optim.lr)
      else out = setKey(out, dotted, v);
    }
  };
  walk(input, []);
  return out;
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (let i = 0; i < 8; i++) {
    const def = (cur as unknown as { _zod: { def: { innerType?: z.ZodType; in?: z.ZodType; type: string } } })._zod.def;
    if (def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else break;
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown): { key: string; message: string } {
  const key = issue.path.map(String).join(".");
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(issue.path.map((p) => p as string)) ?? [];
      const where = key === "" ? "" : `${key}.`;
      const guesses = issue.keys
        .map((k) => [`${where}${k}`, suggestKey(`${where}${k}`, schemaKeys())] as const)
        .filter((g): g is readonly [string, string] => g[1] !== null)
        .map(([k, g]) => `"${k}": did you mean "${g}"?`);
      return {
        key: `${where}${issue.keys[0]}`,
        message:
          `unknown config key ${issue.keys.map((k) => `"${where}${k}"`).join(", ")}; ${guesses.length > 0 ? `${guesses.join("; ")} ` : ""}` +
          `allowed keys${key === "" ? "" : ` in "${key}"`}: ${allowed.join(", ")}`,
      };
    }
    case "invalid_value":
      return { key, message: `config key "${key}": got ${describeValue(got)}; allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` };
    case "invalid_type":
      if (got === undefined) return { key, message: `config key "${key}" is required (expected ${issue.expected})` };
      return { key, message: `config key "${key}": expected ${issue.expected}, got ${describeValue(got)}` };
    default:
      return { key, message: `config key "${key}" ${issue.message.startsWith("must") || issue.message.startsWith("is ") ? "" : ": "}${issue.message} (got ${describeValue(got)})` };
  }
}

/** Checks cross-field rules the schema cannot express. */
function crossCheck(c: TrainConfig): void {
  if (c.data.trainBatchSize % c.actor.ppoMiniBatchSize !== 0) {
    throw new ConfigError(
      `config key "actor.ppoMiniBatchSize": ${c.actor.ppoMiniBatchSize} must divide data.trainBatchSize (${c.data.trainBatchSize})`,
      "actor.ppoMiniBatchSize",
    );
  }
  if (c.data.wrongLabel !== null && c.data.wrongLabels) {
    throw new ConfigError(
      `config keys "data.wrongLabel" and "data.wrongLabels" both set: use data.wrongLabel for one given label, or data.wrongLabels for generated ones`,
      "data.wrongLabel",
    );
  }
  if (c.actor.ppoMiniBatchSize > c.data.trainBatchSize) {
    throw new ConfigError(`config key "actor.ppoMiniBatchSize" must be <= data.trainBatchSize`, "actor.ppoMiniBatchSize");
  }
}

/** Validates a merged partial config into a full TrainConfig; errors name the key and the allowed values. */
export function parseConfig(input: ConfigInput): TrainConfig {
  const r = TrainConfigSchema.safeParse(input);
  if (!r.success) {
    const issues = r.error.issues.map((i) => formatIssue(i, input));
    throw new ConfigError(issues.map((i) => i.message).join("\n"), issues[0]?.key);
  }
  crossCheck(r.data);
  return r.data;
}

export interface ResolveOptions {
  /** A config file (.json/.yaml/.yml) or an already-read object. */
  file?: string | ConfigInput;
  /** `key=value` overrides, applied in order. */
  sets?: readonly string[];
  /** A base under everything but the defaults (e.g. a run's saved config when resuming). */
  base?: ConfigInput;
}

/** defaults ← preset ← base ← file ← sets; the preset is read from the merged input. */
export function resolveConfig(o: ResolveOptions = {}): TrainConfig {
  let user: ConfigInput = o.base ? structuredClone(o.base) : {};
  if (o.file !== undefined) user = mergeConfig(user, typeof o.file === "string" ? readConfigFile(o.file) : o.file);
  for (const s of o.sets ?? []) {
    const { key, value } = parseSet(s);
    user = setKey(user, key, value);
  }
  user = canonicalizeKeys(user);
  let merged = user;
  const presetName = user.preset;
  if (presetName !== undefined) {
    if (typeof presetName !== "string" || !PRESETS[presetName]) {
      throw new ConfigError(`config key "preset": got ${describeValue(presetName)}; allowed values: ${Object.keys(PRESETS).map((p) => JSON.stringify(p)).join(", ")}`, "preset");
    }
    merged = mergeConfig(PRESETS[presetName].config, user);
  }
  return parseConfig(merged);
}

/** The config with every default filled in, as YAML (for --print-config). */
export function configToYaml(c: TrainConfig): string {
  return stringifyYaml(c);
}

/** Loss coefficients after the ablation switches. */
export function effectiveLoss(c: TrainConfig): {
  pgCoef: number;
  klCoef: number;
  entropyCoeff: number;
  weightDecay: number;
} {
  return {
    pgCoef: c.loss.policy ? c.actor.pgCoef : 0,
    klCoef: c.loss.kl ? c.actor.klCoef : 0,
    entropyCoeff: c.loss.entropy ? c.actor.entropyCoeff : 0,
    weightDecay: c.loss.weightDecay ? c.actor.weightDecay : 0,
  };
}

/** Whether the guard checks the weights after every optimizer step (guard.checkEveryUpdate, "auto" resolved). */
export function checksEveryUpdate(c: TrainConfig): boolean {
  return c.guard.checkEveryUpdate === "auto" ? c.model.backend !== "cuda" : c.guard.checkEveryUpdate;
}

/** Whether old log-probs come from a scoring pass (actor.recomputeOldLogp, "auto" resolved). */
export function recomputesOldLogp(c: TrainConfig): boolean {
  return c.actor.recomputeOldLogp === "auto" ? c.model.backend === "cuda" : c.actor.recomputeOldLogp;
}

/** lr at a 1-based step (constant after an optional linear warm-up). */
export function learningRate(c: TrainConfig, step: number): number {
  const w = c.actor.lrWarmupSteps;
  return w > 0 && step <= w ? (c.actor.lr * step) / w : c.actor.lr;
}
