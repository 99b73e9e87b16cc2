// Whole model directories: load (config + weights + tokenizer + generation config) and
// save in the Hugging Face layout, built in a temp directory and renamed into place.
import { copyFile, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { modelConfigToJson, parseModelConfig, type ModelConfig, type TorchDtype } from "./config.js";
import type { StorageDtype } from "./dtypes.js";
import { ModelConfigError, ModelError, ModelFileError } from "./errors.js";
import { fileExists, fsyncDir, readJsonFile, tempSibling, writeFileAtomic, writeJsonAtomic } from "./files.js";
import {
  GENERATION_CONFIG_FILE,
  generationConfigToJson,
  readGenerationConfig,
  type GenerationConfig,
} from "./generation.js";
import { openModelTensors } from "./modelTensors.js";
import { writeModelSafetensors, type TensorData } from "./safetensorsWriter.js";
import { ModelTokenizer } from "./tokenizer.js";
import { checkTensorShapes, expectedTensorShapes, loadWeights, type Weights } from "./weights.js";

export const CONFIG_FILE = "config.json";

/** Tokenizer files copied along with a checkpoint when present. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "chat_template.jinja",
  "added_tokens.json",
  "vocab.json",
  "merges.txt",
  "tokenizer.model",
] as const;

const STORAGE_OF: Record<TorchDtype, StorageDtype> = { float32: "F32", bfloat16: "BF16", float16: "F16" };
const TORCH_OF: Record<StorageDtype, TorchDtype> = { F32: "float32", BF16: "bfloat16", F16: "float16" };

export interface ModelDir {
  dir: string;
  config: ModelConfig;
  /** config.json as parsed, with fields this package does not model. */
  rawConfig: Record<string, unknown>;
  generationConfig: GenerationConfig | null;
  tokenizer: ModelTokenizer;
  /** Every id that ends generation: generation_config.json (else config.json) and the tokenizer's eos. */
  eosTokenIds: number[];
  /** f32 weights; null when loaded with { weights: false }. */
  weights: Weights | null;
}

/** Reads and validates `dir`/config.json. */
export async function readModelConfig(dir: string): Promise<{ config: ModelConfig; raw: Record<string, unknown> }> {
  const path = join(dir, CONFIG_FILE);
  const raw = await readJsonFile(path);
  const config = parseModelConfig(raw, path);
  return { config, raw: raw as Record<string, unknown> };
}

/** Loads a Hugging Face model directory, checking weights and tokenizer against config.json. */
export async function loadModelDir(dir: string, options: { weights?: boolean } = {}): Promise<ModelDir> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new ModelFileError(dir, "not a directory");
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(dir, "model directory not found");
  }
  const { config, raw } = await readModelConfig(dir);
  const generationConfig = await readGenerationConfig(dir);
  const tokenizer = await ModelTokenizer.load(dir, {
    extraEosTokenIds: generationConfig === null ? config.eosTokenIds : [],
    contextLength: config.maxPositionEmbeddings,
  });
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ModelConfigError(join(dir, CONFIG_FILE), [
      {
        field: "vocab_size",
        message: `the tokenizer has ${tokenizer.vocabSize} ids but vocab_size is ${config.vocabSize}`,
      },
    ]);
  }
  const source = await openModelTensors(dir);
  let weights: Weights | null = null;
  try {
    if (options.weights === false) {
      checkTensorShapes(source.path, new Map(source.names().map((n) => [n, source.info(n).shape])), config);
    } else {
      weights = await loadWeights(source, config);
    }
  } finally {
    await source.close();
  }
  return {
    dir,
    config,
    rawConfig: raw,
    generationConfig,
    tokenizer,
    eosTokenIds: tokenizer.eosTokenIds,
    weights,
  };
}

export interface SaveCheckpointOptions {
  /** Storage dtype (default: config.torchDtype); config.json's torch_dtype is set to match. */
  dtype?: StorageDtype;
  /** Shard the weights into files of at most this many bytes. */
  maxShardBytes?: number;
  /** config.json fields to keep that ModelConfig does not model (e.g. ModelDir.rawConfig). */
  baseConfig?: Record<string, unknown>;
  /** generation_config.json fields to keep (e.g. ModelDir.generationConfig.raw). */
  baseGenerationConfig?: Record<string, unknown>;
  /** Replace an existing checkpoint at `dir` (default false: refuse). */
  overwrite?: boolean;
}

/**
 * Tokenizer files to put in a checkpoint: a directory to copy the known tokenizer files
 * from (tokenizer.json must be there), or file name → content.
 */
export type TokenizerFiles = string | Readonly<Record<string, string | Uint8Array>> | null;

/**
 * Writes a checkpoint loadable by transformers: config.json, model.safetensors (or shards
 * + index), generation_config.json and the tokenizer files. Everything is written into a
 * temp directory next to `dir`, fsynced, then renamed to `dir`, so a crash never leaves a
 * half-written checkpoint at `dir`.
 */
export async function saveCheckpoint(
  dir: string,
  config: ModelConfig,
  tensors: ReadonlyMap<string, TensorData>,
  tokenizerFiles: TokenizerFiles,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  checkTensorShapes("tensors to save", new Map([...tensors].map(([n, t]) => [n, t.shape])), config);
  const dtype = options.dtype ?? STORAGE_OF[config.torchDtype];
  const ordered = [...expectedTensorShapes(config).keys()].map((n) => [n, tensors.get(n)!] as const);
  if (!options.overwrite && (await exists(dir))) {
    throw new ModelFileError(dir, "already exists (pass overwrite: true to replace it)");
  }
  await mkdir(dirname(dir), { recursive: true });
  const tmp = tempSibling(dir);
  await mkdir(tmp);
  try {
    await writeModelSafetensors(tmp, ordered, {
      dtype,
      ...(options.maxShardBytes === undefined ? {} : { maxShardBytes: options.maxShardBytes }),
    });
    const saved = { ...config, torchDtype: TORCH_OF[dtype] };
    await writeJsonAtomic(join(tmp, CONFIG_FILE), modelConfigToJson(saved, options.baseConfig));
    await writeJsonAtomic(
      join(tmp, GENERATION_CONFIG_FILE),
      generationConfigToJson(config.bosTokenId, config.eosTokenIds, options.baseGenerationConfig),
    );
    await writeTokenizerFiles(tmp, tokenizerFiles);
    await fsyncDir(tmp);
    await swapInto(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw describeWriteError(e, dir);
  }
}

const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: "no space left on the device (ENOSPC); free some space or save elsewhere",
  EDQUOT: "disk quota exceeded (EDQUOT); free some space or save elsewhere",
  EROFS: "the file system is read-only (EROFS); save to a writable folder",
  EACCES: "permission denied (EACCES); save to a folder you can write to",
  EPERM: "permission denied (EPERM); save to a folder you can write to",
};

/** An fs error while saving `dir` as a ModelFileError naming it (the errno code kept as `code`). */
function describeWriteError(e: unknown, dir: string): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const what = code !== undefined ? WRITE_ERRORS[code] : undefined;
  if (what === undefined || e instanceof ModelError) return e;
  return Object.assign(new ModelFileError(dir, `cannot write the checkpoint: ${what}`), { code });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function writeTokenizerFiles(tmp: string, files: TokenizerFiles): Promise<void> {
  if (files === null) return;
  if (typeof files === "string") {
    if (!(await fileExists(join(files, "tokenizer.json")))) {
      throw new ModelFileError(join(files, "tokenizer.json"), "file not found (needed to copy the tokenizer)");
    }
    for (const name of TOKENIZER_FILES) {
      const src = join(files, name);
      if (!(await fileExists(src))) continue;
      await copyFile(src, join(tmp, name));
      const fh = await open(join(tmp, name), "r+");
      await fh.sync().finally(() => fh.close());
    }
    return;
  }
  for (const [name, content] of Object.entries(files)) {
    if (name !== basename(name) || name === "." || name === "..") {
      throw new ModelError(`tokenizer file name "${name}" must be a plain file name`);
    }
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    await writeFileAtomic(join(tmp, name), async (fh) => {
      await fh.write(bytes, 0, bytes.length, 0);
    });
  }
}

/** Renames `tmp` to `dir`; an existing `dir` is moved aside first and removed after. */
async function swapInto(tmp: string, dir: string): Promise<void> {
  let old: string | null = null;
  if (await exists(dir)) {
    old = tempSibling(dir, "old");
    await rename(dir, old);
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    if (old !== null) await rename(old, dir);
    throw e;
  }
  await fsyncDir(dirname(dir));
  if (old !== null) await rm(old, { recursive: true, force: true });
}
