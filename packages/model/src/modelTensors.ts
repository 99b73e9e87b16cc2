// Opens the weights of a model directory: model.safetensors, or the shards listed in
// model.safetensors.index.json, as one TensorSource.
import { join } from "node:path";
import { z } from "zod";
import { ModelFileError } from "./errors.js";
import { fileExists, readJsonFile } from "./files.js";
import { SafetensorsFile, type TensorInfo, type TensorSource } from "./safetensors.js";
import { INDEX_FILE, SINGLE_FILE } from "./safetensorsWriter.js";

const indexSchema = z.object({
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  weight_map: z.record(z.string(), z.string()),
});

/** Tensors spread over several safetensors shards, addressed through the index's weight_map. */
export class ShardedTensors implements TensorSource {
  constructor(
    readonly path: string,
    private readonly byName: ReadonlyMap<string, SafetensorsFile>,
    private readonly files: readonly SafetensorsFile[],
  ) {}

  names(): string[] {
    return [...this.byName.keys()];
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  private file(name: string): SafetensorsFile {
    const f = this.byName.get(name);
    if (f === undefined) throw new ModelFileError(this.path, `no tensor named "${name}" in the weight_map`);
    return f;
  }
  info(name: string): TensorInfo {
    return this.file(name).info(name);
  }
  readBytes(name: string): Promise<Uint8Array> {
    return this.file(name).readBytes(name);
  }
  readFloat32(name: string): Promise<Float32Array> {
    return this.file(name).readFloat32(name);
  }
  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

/** Opens a sharded checkpoint from its model.safetensors.index.json. */
export async function openShardedSafetensors(indexPath: string): Promise<ShardedTensors> {
  const parsed = indexSchema.safeParse(await readJsonFile(indexPath));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelFileError(indexPath, `invalid index: field "${issue.path.join(".")}": ${issue.message}`);
  }
  const dir = join(indexPath, "..");
  const shardNames = [...new Set(Object.values(parsed.data.weight_map))];
  for (const s of shardNames) {
    if (s.includes("/") || s.includes("\\") || s === ".." || s === ".") {
      throw new ModelFileError(indexPath, `shard file name "${s}" must be a plain file name in the same directory`);
    }
  }
  const files = new Map<string, SafetensorsFile>();
  try {
    for (const s of shardNames) files.set(s, await SafetensorsFile.open(join(dir, s)));
    const byName = new Map<string, SafetensorsFile>();
    for (const [name, shard] of Object.entries(parsed.data.weight_map)) {
      const f = files.get(shard)!;
      if (!f.has(name)) {
        throw new ModelFileError(indexPath, `weight_map puts tensor "${name}" in ${shard}, which does not contain it`);
      }
      byName.set(name, f);
    }
    return new ShardedTensors(indexPath, byName, [...files.values()]);
  } catch (e) {
    await Promise.all([...files.values()].map((f) => f.close()));
    throw e;
  }
}

/** Opens model.safetensors.index.json (preferred) or model.safetensors in `dir`. */
export async function openModelTensors(dir: string): Promise<TensorSource> {
  const index = join(dir, INDEX_FILE);
  if (await fileExists(index)) return openShardedSafetensors(index);
  const single = join(dir, SINGLE_FILE);
  if (await fileExists(single)) return SafetensorsFile.open(single);
  throw new ModelFileError(dir, `no weights found: expected ${SINGLE_FILE} or ${INDEX_FILE}`);
}
