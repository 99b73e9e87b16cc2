// generation_config.json: the EOS/BOS ids generation stops on.
import { join } from "node:path";
import { z } from "zod";
import { ModelConfigError } from "./errors.js";
import { fileExists, readJsonFile } from "./files.js";

export const GENERATION_CONFIG_FILE = "generation_config.json";

export interface GenerationConfig {
  bosTokenId: number | null;
  /** eos_token_id as a list (a single id in the file becomes a one-element list). */
  eosTokenIds: number[];
  /** The whole parsed file, for fields this package does not model (temperature, top_p...). */
  raw: Record<string, unknown>;
}

const tokenId = z.number().int().nonnegative();
const schema = z.looseObject({
  bos_token_id: tokenId.nullable().optional(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullable().optional(),
});

export function parseGenerationConfig(json: unknown, path = GENERATION_CONFIG_FILE): GenerationConfig {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ModelConfigError(
      path,
      parsed.error.issues.map((i) => ({ field: i.path.map(String).join(".") || "(root)", message: i.message })),
    );
  }
  const eos = parsed.data.eos_token_id;
  return {
    bosTokenId: parsed.data.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos : [eos],
    raw: parsed.data,
  };
}

/** Reads `dir`/generation_config.json; null when the file does not exist. */
export async function readGenerationConfig(dir: string): Promise<GenerationConfig | null> {
  const path = join(dir, GENERATION_CONFIG_FILE);
  if (!(await fileExists(path))) return null;
  return parseGenerationConfig(await readJsonFile(path), path);
}

/** generation_config.json content: `base` (e.g. the original file) with the given ids filling in what it lacks. */
export function generationConfigToJson(
  bosTokenId: number | null,
  eosTokenIds: readonly number[],
  base: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (bosTokenId !== null) out.bos_token_id = bosTokenId;
  if (eosTokenIds.length > 0) out.eos_token_id = eosTokenIds.length === 1 ? eosTokenIds[0] : [...eosTokenIds];
  return { ...out, ...base };
}
