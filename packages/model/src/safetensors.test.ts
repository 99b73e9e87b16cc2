import { readFile, readdir, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { encodeFromF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtypes.js";
import { ModelFileError, SafetensorsFormatError, UnsupportedDtypeError } from "./errors.js";
import { openModelTensors } from "./modelTensors.js";
import { SafetensorsFile } from "./safetensors.js";
import { INDEX_FILE, writeModelSafetensors, writeSafetensors, type TensorData } from "./safetensorsWriter.js";
import { randomFloats, tempDir } from "./testing/fixtures.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/torch_tensors.safetensors", import.meta.url));

/** A safetensors file from a raw header object and data bytes. */
async function rawFile(path: string, header: unknown, data: Uint8Array, headerLen?: bigint): Promise<void> {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(headerLen ?? BigInt(json.length));
  await writeFile(path, Buffer.concat([len, json, data]));
}

async function expectError(p: Promise<unknown>, type: new (...a: never[]) => Error, message: RegExp): Promise<void> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(type);
  expect((e as Error).message).toMatch(message);
}

const sampleTensors = (): Map<string, TensorData> =>
  new Map([
    ["a", { shape: [3, 4], data: randomFloats(12, 1) }],
    ["b.bias", { shape: [5], data: randomFloats(5, 2), dtype: "F32" }],
    ["scalar", { shape: [], data: new Float32Array([1.25]) }],
    ["empty", { shape: [0, 3], data: new Float32Array(0) }],
  ]);

describe("writeSafetensors / SafetensorsFile", () => {
  it.each(["F32", "BF16", "F16"] as const)("round-trips %s with shapes, metadata and 8-byte aligned header", async (dtype) => {
    const dir = await tempDir();
    const path = join(dir, "x.safetensors");
    const tensors = sampleTensors();
    await writeSafetensors(path, tensors, { dtype, metadata: { note: "hi" } });
    const bytes = await readFile(path);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const f = await SafetensorsFile.open(path);
    try {
      expect(f.metadata).toEqual({ note: "hi", format: "pt" });
      expect(f.names()).toEqual(["a", "b.bias", "scalar", "empty"]);
      expect(f.info("a")).toMatchObject({ dtype, shape: [3, 4] });
      expect(f.info("b.bias").dtype).toBe("F32");
      for (const [name, t] of tensors) {
        const want = t.dtype === "F32" || dtype === "F32" ? t.data
          : dtype === "BF16" ? new Float32Array(new Uint32Array([...f32ToBf16(t.data)].map((h) => h << 16)).buffer)
          : f16ToF32(f32ToF16(t.data));
        expect(await f.readFloat32(name)).toEqual(want);
      }
    } finally {
      await f.close();
    }
    expect((await readdir(dir)).sort()).toEqual(["x.safetensors"]); // no temp file left
  });

  it("rejects data whose length does not match the shape", async () => {
    const dir = await tempDir();
    const bad = new Map([["a", { shape: [2, 2], data: new Float32Array(3) }]]);
    await expect(writeSafetensors(join(dir, "x.safetensors"), bad)).rejects.toThrow(/shape \[2, 2\] has 4 elements but data has 3/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("reads a file written by PyTorch (bf16/f16 rounding and layout match)", async () => {
    const f = await SafetensorsFile.open(FIXTURE);
    try {
      expect(f.metadata?.format).toBe("pt");
      const src = await f.readFloat32("src_f32");
      expect(Buffer.from(await f.readBytes("src_bf16"))).toEqual(Buffer.from(encodeFromF32(src, "BF16")));
      expect(Buffer.from(await f.readBytes("src_f16"))).toEqual(Buffer.from(encodeFromF32(src, "F16")));
      expect(await f.readFloat32("src_bf16")).toEqual(await f.readFloat32("bf16_as_f32"));
      expect(await f.readFloat32("src_f16")).toEqual(await f.readFloat32("f16_as_f32"));
      const m = await f.readFloat32("matrix_f32");
      expect(f.info("matrix_bf16").shape).toEqual([3, 5]);
      expect(Buffer.from(await f.readBytes("matrix_bf16"))).toEqual(Buffer.from(encodeFromF32(m, "BF16")));
      expect(f.info("cube_f16")).toMatchObject({ dtype: "F16", shape: [2, 3, 4] });
      expect((await f.readFloat32("cube_f16")).length).toBe(24);
      await expectError(f.readFloat32("ints_i64"), UnsupportedDtypeError, /"ints_i64" has dtype I64; supported dtypes are F32, BF16 and F16/);
      expect(new BigInt64Array((await f.readBytes("ints_i64")).buffer)).toEqual(new BigInt64Array([0n, 1n, 2n, 3n, 4n, 5n]));
    } finally {
      await f.close();
    }
  });
});

describe("SafetensorsFile errors", () => {
  it("missing file", async () => {
    const dir = await tempDir();
    await expectError(SafetensorsFile.open(join(dir, "nope.safetensors")), ModelFileError, /nope\.safetensors: file not found/);
  });

  it("file shorter than the length prefix", async () => {
    const p = join(await tempDir(), "x.safetensors");
    await writeFile(p, Buffer.from([1, 2, 3]));
    await expectError(SafetensorsFile.open(p), SafetensorsFormatError, /too short/);
  });

  it("header length beyond the file or the 100 MB limit", async () => {
    const dir = await tempDir();
    await rawFile(join(dir, "a"), {}, new Uint8Array(0), 1000n);
    await expectError(SafetensorsFile.open(join(dir, "a")), SafetensorsFormatError, /header length 1000 exceeds the file size/);
    await rawFile(join(dir, "b"), {}, new Uint8Array(0), 1n << 40n);
    await expectError(SafetensorsFile.open(join(dir, "b")), SafetensorsFormatError, /100 MB/);
  });

  it("corrupt header JSON", async () => {
    const p = join(await tempDir(), "x.safetensors");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(6n);
    await writeFile(p, Buffer.concat([len, Buffer.from("{oops}")]));
    await expectError(SafetensorsFile.open(p), SafetensorsFormatError, /corrupt safetensors header: not valid JSON/);
  });

  it.each([
    [{ t: { dtype: "F32", shape: [2], data_offsets: [0, 6] } }, /needs 8 bytes but data_offsets span 6/],
    [{ t: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, /exceed the 8-byte data section/],
    [{ t: { dtype: "F32", shape: [-1], data_offsets: [0, 8] } }, /shape must be an array of non-negative integers/],
    [{ t: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, /0 <= begin <= end/],
    [{ t: { shape: [2], data_offsets: [0, 8] } }, /no dtype/],
    [{ __metadata__: { a: 1 } }, /__metadata__\.a" must be a string/],
    [{ x: { dtype: "F16", shape: [3], data_offsets: [0, 6] }, y: { dtype: "F16", shape: [2], data_offsets: [4, 8] } }, /"x" and "y" overlap/],
    // the offsets must tile the data section exactly (weights shifted by one float loaded silently)
    [{ t: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, /bytes \[0, 4\) of the data section belong to no tensor \(a hole before the first tensor\)/],
    [{ x: { dtype: "F16", shape: [1], data_offsets: [0, 2] }, y: { dtype: "F16", shape: [2], data_offsets: [4, 8] } }, /bytes \[2, 4\) .* hole between "x" and "y"/],
    [{ t: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, /8 bytes but the tensors' data_offsets end at 4: 4 trailing byte\(s\)/],
    [{}, /8 bytes but the tensors' data_offsets end at 0/],
  ])("invalid header %j", async (header, message) => {
    const p = join(await tempDir(), "x.safetensors");
    await rawFile(p, header, new Uint8Array(8));
    await expectError(SafetensorsFile.open(p), SafetensorsFormatError, message);
  });

  it("truncated file", async () => {
    const p = join(await tempDir(), "x.safetensors");
    await writeSafetensors(p, sampleTensors());
    const size = (await readFile(p)).length;
    await truncate(p, size - 3);
    await expectError(SafetensorsFile.open(p), SafetensorsFormatError, /file truncated\?/);
  });

  it("unknown tensor name", async () => {
    const p = join(await tempDir(), "x.safetensors");
    await writeSafetensors(p, sampleTensors());
    const f = await SafetensorsFile.open(p);
    await expect(f.readFloat32("zzz")).rejects.toThrow(/no tensor named "zzz"/);
    await f.close();
  });
});

describe("sharded weights", () => {
  it("splits by maxShardBytes, writes an index, and reads back through it", async () => {
    const dir = await tempDir();
    const tensors = new Map<string, TensorData>();
    for (let i = 0; i < 5; i++) tensors.set(`t${i}`, { shape: [10, 10], data: randomFloats(100, i) });
    const files = await writeModelSafetensors(dir, tensors, { dtype: "BF16", maxShardBytes: 450 });
    expect(files).toEqual([
      "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors", INDEX_FILE,
    ]);
    const index = JSON.parse(await readFile(join(dir, INDEX_FILE), "utf8"));
    expect(index.metadata.total_size).toBe(5 * 200);
    expect(index.weight_map.t4).toBe("model-00003-of-00003.safetensors");
    const src = await openModelTensors(dir);
    try {
      expect(src.names().sort()).toEqual(["t0", "t1", "t2", "t3", "t4"]);
      expect(src.info("t2").file).toBe(join(dir, "model-00002-of-00003.safetensors"));
      expect((await src.readFloat32("t3")).length).toBe(100);
    } finally {
      await src.close();
    }
  });

  it("writes one model.safetensors when everything fits", async () => {
    const dir = await tempDir();
    expect(await writeModelSafetensors(dir, sampleTensors(), { maxShardBytes: 1e9 })).toEqual(["model.safetensors"]);
    const src = await openModelTensors(dir);
    expect(src.names().length).toBe(4);
    await src.close();
  });

  it("reports an index entry whose shard lacks the tensor, a missing shard, and a bad index", async () => {
    const dir = await tempDir();
    await writeModelSafetensors(dir, sampleTensors(), { maxShardBytes: 20 });
    const indexPath = join(dir, INDEX_FILE);
    const index = JSON.parse(await readFile(indexPath, "utf8"));
    await writeFile(indexPath, JSON.stringify({ ...index, weight_map: { ...index.weight_map, ghost: index.weight_map.a } }));
    await expectError(openModelTensors(dir), ModelFileError, /weight_map puts tensor "ghost" in model-00001-of-00003\.safetensors, which does not contain it/);
    await writeFile(indexPath, JSON.stringify({ weight_map: { a: "model-00009-of-00009.safetensors" } }));
    await expectError(openModelTensors(dir), ModelFileError, /model-00009-of-00009\.safetensors: file not found/);
    await writeFile(indexPath, JSON.stringify({ weight_map: { a: "../elsewhere.safetensors" } }));
    await expectError(openModelTensors(dir), ModelFileError, /must be a plain file name/);
    await writeFile(indexPath, JSON.stringify({ weights: {} }));
    await expectError(openModelTensors(dir), ModelFileError, /invalid index: field "weight_map"/);
    await writeFile(indexPath, "{");
    await expectError(openModelTensors(dir), ModelFileError, /invalid JSON/);
  });

  it("reports a directory without weights", async () => {
    const dir = await tempDir();
    await expectError(openModelTensors(dir), ModelFileError, /no weights found: expected model\.safetensors or model\.safetensors\.index\.json/);
  });
});
