// safetensors writer: one file or shards + model.safetensors.index.json, each written
// atomically (temp file, fsync, rename). Tensors are encoded and written one at a time.
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ModelError } from "./errors.js";
import { DTYPE_BYTES, encodeFromF32, type StorageDtype } from "./dtypes.js";
import { writeFileAtomic, writeJsonAtomic } from "./files.js";
import { numel } from "./safetensors.js";

/** An f32 tensor to write; `dtype` overrides the writer's default storage dtype. */
export interface TensorData {
  shape: readonly number[];
  data: Float32Array;
  dtype?: StorageDtype;
}

export type NamedTensors = ReadonlyMap<string, TensorData> | Iterable<readonly [string, TensorData]>;

export interface WriteOptions {
  /** Storage dtype of tensors without their own (default F32). */
  dtype?: StorageDtype;
  /** Extra "__metadata__" entries; "format": "pt" is always set. */
  metadata?: Record<string, string>;
}

const WRITE_CHUNK = 1 << 30;

function checkTensor(name: string, t: TensorData): void {
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ModelError(`tensor "${name}": shape [${t.shape.join(", ")}] must hold non-negative integers`);
  }
  if (numel(t.shape) !== t.data.length) {
    throw new ModelError(
      `tensor "${name}": shape [${t.shape.join(", ")}] has ${numel(t.shape)} elements but data has ${t.data.length}`,
    );
  }
}

function storedBytes(t: TensorData, dtype: StorageDtype): number {
  return t.data.length * DTYPE_BYTES[t.dtype ?? dtype]!;
}

/** Writes one .safetensors file atomically. */
export async function writeSafetensors(path: string, tensors: NamedTensors, options: WriteOptions = {}): Promise<void> {
  const dtype = options.dtype ?? "F32";
  const entries = [...tensors];
  const header: Record<string, unknown> = { __metadata__: { ...options.metadata, format: "pt" } };
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new ModelError(`"__metadata__" is not a valid tensor name`);
    checkTensor(name, t);
    const size = storedBytes(t, dtype);
    header[name] = { dtype: t.dtype ?? dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  headerBytes = Buffer.concat([headerBytes, Buffer.alloc(padded - headerBytes.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  await writeFileAtomic(path, async (fh) => {
    await writeAll(fh, prefix, 0);
    await writeAll(fh, headerBytes, 8);
    let pos = 8 + headerBytes.length;
    for (const [, t] of entries) {
      const bytes = encodeFromF32(t.data, t.dtype ?? dtype);
      await writeAll(fh, bytes, pos);
      pos += bytes.length;
    }
  });
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const len = Math.min(WRITE_CHUNK, bytes.length - done);
    const { bytesWritten } = await fh.write(bytes, done, len, position + done);
    done += bytesWritten;
  }
}

export interface ShardOptions extends WriteOptions {
  /** Split into shards of at most this many bytes of tensor data (a larger tensor gets a shard of its own). */
  maxShardBytes?: number;
}

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/**
 * Writes model weights into `dir` the way transformers does: model.safetensors, or when
 * the data exceeds `maxShardBytes`, model-0000i-of-0000n.safetensors plus
 * model.safetensors.index.json. Returns the file names written.
 */
export async function writeModelSafetensors(
  dir: string,
  tensors: NamedTensors,
  options: ShardOptions = {},
): Promise<string[]> {
  const dtype = options.dtype ?? "F32";
  const entries = [...tensors];
  const max = options.maxShardBytes ?? Infinity;
  if (!(max > 0)) throw new ModelError(`maxShardBytes must be positive, got ${max}`);
  const shards: (readonly [string, TensorData])[][] = [];
  let current: (readonly [string, TensorData])[] = [];
  let currentBytes = 0;
  let total = 0;
  for (const entry of entries) {
    checkTensor(entry[0], entry[1]);
    const size = storedBytes(entry[1], dtype);
    total += size;
    if (current.length > 0 && currentBytes + size > max) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += size;
  }
  shards.push(current);
  if (shards.length === 1) {
    await writeSafetensors(join(dir, SINGLE_FILE), entries, options);
    return [SINGLE_FILE];
  }
  const pad = (i: number) => String(i).padStart(5, "0");
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (const [i, shard] of shards.entries()) {
    const file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    await writeSafetensors(join(dir, file), shard, options);
    for (const [name] of shard) weightMap[name] = file;
    files.push(file);
  }
  const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeJsonAtomic(join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: sortedMap });
  return [...files, INDEX_FILE];
}
