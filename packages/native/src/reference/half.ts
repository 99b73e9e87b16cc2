/** fp32 <-> bf16 / f16 bit conversions (round to nearest even), for tests and I/O. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

export function f32ToBf16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

export function f32ToF16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000, a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00;
  if (a < 0x38800000) {
    f32[0] = Math.abs(x) * 16777216;
    const scaled = f32[0]!;
    let m = Math.floor(scaled);
    const rem = scaled - m;
    if (rem > 0.5 || (rem === 0.5 && m & 1)) m++;
    return sign | m;
  }
  return sign | (((a + 0xfff + ((a >>> 13) & 1) - (112 << 23)) >>> 13) & 0xffff);
}
