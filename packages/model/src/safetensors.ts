// safetensors reader: validates the header, then reads one tensor at a time with
// positioned reads, so files larger than 2 GB never become a single Buffer or string.
import type { FileHandle } from "node:fs/promises";
import { ModelFileError, SafetensorsFormatError, UnsupportedDtypeError } from "./errors.js";
import { DTYPE_BYTES, STORAGE_DTYPES, decodeToF32, type StorageDtype } from "./dtypes.js";
import { openRegularFile } from "./files.js";

/** Largest header the format allows (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
/** Largest single read; fs reads are limited to 2 GiB. */
const READ_CHUNK = 1 << 30;

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Absolute byte offset of the tensor data in its file. */
  offset: number;
  byteLength: number;
  /** The file holding the tensor. */
  file: string;
}

/** Read access to a set of named tensors (one safetensors file or a sharded set). */
export interface TensorSource {
  /** A file or directory naming the source in error messages. */
  readonly path: string;
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The raw little-endian bytes of a tensor. */
  readBytes(name: string): Promise<Uint8Array>;
  /** A tensor converted to f32 (from F32, BF16 or F16; other dtypes are rejected). */
  readFloat32(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses and checks a header against the size of the data section that follows it. */
export function parseSafetensorsHeader(
  path: string,
  headerText: string,
  dataStart: number,
  dataSize: number,
): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> | null } {
  const fail = (msg: string): never => {
    throw new SafetensorsFormatError(path, `corrupt safetensors header: ${msg}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(headerText);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail("not a JSON object");
  let metadata: Record<string, string> | null = null;
  const tensors = new Map<string, TensorInfo>();
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        return fail(`"__metadata__" must be an object of strings`);
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== "string") return fail(`"__metadata__.${k}" must be a string`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== "object" || e === null) return fail(`tensor "${name}" entry is not an object`);
    if (typeof e.dtype !== "string") return fail(`tensor "${name}" has no dtype string`);
    const isDim = (d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0;
    if (!Array.isArray(e.shape) || !e.shape.every(isDim)) {
      return fail(`tensor "${name}" shape must be an array of non-negative integers`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isDim) || offs[0] > offs[1]) {
      return fail(`tensor "${name}" data_offsets must be [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataSize) {
      return fail(
        `tensor "${name}" data_offsets [${begin}, ${end}] exceed the ${dataSize}-byte data section (file truncated?)`,
      );
    }
    const shape = e.shape as number[];
    const elemBytes = DTYPE_BYTES[e.dtype];
    if (elemBytes !== undefined && numel(shape) * elemBytes !== end - begin) {
      return fail(
        `tensor "${name}" (${e.dtype}, shape [${shape.join(", ")}]) needs ${numel(shape) * elemBytes} bytes but data_offsets span ${end - begin}`,
      );
    }
    tensors.set(name, { dtype: e.dtype, shape, offset: dataStart + begin, byteLength: end - begin, file: path });
    ranges.push({ name, begin, end });
  }
  // The format requires the offsets to cover the data section exactly: no overlap, no hole,
  // no trailing bytes. A header shifted by a few bytes would otherwise load garbage silently.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last = "";
  for (const cur of ranges) {
    if (cur.begin < covered) return fail(`tensors "${last}" and "${cur.name}" overlap`);
    if (cur.begin > covered) {
      const where = last === "" ? "before the first tensor" : `between "${last}" and "${cur.name}"`;
      return fail(`bytes [${covered}, ${cur.begin}) of the data section belong to no tensor (a hole ${where}); data_offsets must cover the data section exactly`);
    }
    covered = cur.end;
    last = cur.name;
  }
  if (covered !== dataSize) {
    return fail(
      `the data section has ${dataSize} bytes but the tensors' data_offsets end at ${covered}: ` +
        `${dataSize - covered} trailing byte(s) belong to no tensor (wrong offsets, or bytes appended to the file)`,
    );
  }
  return { tensors, metadata };
}

/** One open .safetensors file. Close it when done. */
export class SafetensorsFile implements TensorSource {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Record<string, string> | null,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let fh: FileHandle;
    try {
      fh = await openRegularFile(path);
    } catch (e) {
      if (e instanceof ModelFileError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelFileError(path, code === "ENOENT" ? "file not found" : `cannot open: ${String(e)}`);
    }
    try {
      const size = (await fh.stat()).size;
      if (size < 8) throw new SafetensorsFormatError(path, `file is ${size} bytes, too short for a safetensors header`);
      const lenBuf = Buffer.alloc(8);
      await readExactly(fh, path, lenBuf, 0);
      const headerLen = lenBuf.readBigUInt64LE(0);
      if (headerLen > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsFormatError(path, `header length ${headerLen} exceeds the 100 MB limit (corrupt file?)`);
      }
      if (Number(headerLen) > size - 8) {
        throw new SafetensorsFormatError(
          path,
          `header length ${headerLen} exceeds the file size ${size} (truncated or not a safetensors file)`,
        );
      }
      const header = Buffer.alloc(Number(headerLen));
      await readExactly(fh, path, header, 8);
      const dataStart = 8 + header.length;
      const { tensors, metadata } = parseSafetensorsHeader(path, header.toString("utf8"), dataStart, size - dataStart);
      return new SafetensorsFile(path, fh, tensors, metadata);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (info === undefined) throw new ModelFileError(this.path, `no tensor named "${name}"`);
    return info;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    const out = new Uint8Array(info.byteLength);
    await readExactly(this.fh, this.path, out, info.offset);
    return out;
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    if (!(STORAGE_DTYPES as readonly string[]).includes(info.dtype)) {
      throw new UnsupportedDtypeError(this.path, name, info.dtype);
    }
    return decodeToF32(await this.readBytes(name), info.dtype as StorageDtype);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function readExactly(fh: FileHandle, path: string, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.length) {
    const len = Math.min(READ_CHUNK, into.length - done);
    const { bytesRead } = await fh.read(into, done, len, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsFormatError(path, `unexpected end of file at byte ${position + done} (truncated?)`);
    }
    done += bytesRead;
  }
}
