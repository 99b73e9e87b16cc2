// Float conversions between f32 and the 16-bit storage formats (bf16, f16).
// All byte buffers are little-endian, as in safetensors.
import { endianness } from "node:os";

export type StorageDtype = "F32" | "BF16" | "F16";
export const STORAGE_DTYPES: readonly StorageDtype[] = ["F32", "BF16", "F16"];

/** Bytes per element of every dtype the safetensors format defines. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1,
  U16: 2, I16: 2, F16: 2, BF16: 2,
  U32: 4, I32: 4, F32: 4,
  U64: 8, I64: 8, F64: 8,
};

if (endianness() !== "LE") {
  throw new Error("@rlvr/model requires a little-endian host");
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bf16 bits (as uint16 values) → f32. */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

let halfTable: Float32Array | undefined;
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** f16 bits (as uint16 values) → f32, via a 64K-entry lookup table. */
export function f16ToF32(src: Uint16Array): Float32Array {
  if (halfTable === undefined) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const table = halfTable;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  return out;
}

/** f32 bits → bf16 bits, round-to-nearest-even; NaN stays a (quiet) NaN. */
export function f32BitsToBf16(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** f32 bits → f16 bits, round-to-nearest-even, overflow → ±Inf, underflow → subnormal/±0. */
export function f32BitsToF16(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) !== 0)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half++;
  return sign | half;
}

export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16(bits[i]!);
  return out;
}

export function f32ToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16(bits[i]!);
  return out;
}

/** Rounds an f32 value through bf16 and back (what saving as bf16 does to it). */
export function roundToBf16(x: number): number {
  f32[0] = x;
  u32[0] = f32BitsToBf16(u32[0]!) << 16;
  return f32[0]!;
}

/** Decodes little-endian storage bytes (aligned copy or view) into f32. */
export function decodeToF32(bytes: Uint8Array, dtype: StorageDtype): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === "F32") return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const u16 = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
  return dtype === "BF16" ? bf16ToF32(u16) : f16ToF32(u16);
}

/** Encodes f32 values as little-endian storage bytes of `dtype`. */
export function encodeFromF32(data: Float32Array, dtype: StorageDtype): Uint8Array {
  const typed = dtype === "F32" ? data : dtype === "BF16" ? f32ToBf16(data) : f32ToF16(data);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}
