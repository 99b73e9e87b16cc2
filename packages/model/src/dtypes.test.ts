import { describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32BitsToBf16, f32BitsToF16, f32ToBf16, f32ToF16, roundToBf16 } from "./dtypes.js";

const bitsOf = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;

describe("bf16", () => {
  it("rounds to nearest, ties to even", () => {
    expect(f32BitsToBf16(bitsOf(1))).toBe(0x3f80);
    expect(f32BitsToBf16(bitsOf(1 + 2 ** -8))).toBe(0x3f80); // tie → even (down)
    expect(f32BitsToBf16(bitsOf(1 + 3 * 2 ** -8))).toBe(0x3f82); // tie → even (up)
    expect(f32BitsToBf16(bitsOf(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81); // above tie → up
    expect(f32BitsToBf16(bitsOf(-2))).toBe(0xc000);
    expect(f32BitsToBf16(bitsOf(3.4e38))).toBe(0x7f80); // beyond bf16 max → inf
    expect(f32BitsToBf16(bitsOf(Infinity))).toBe(0x7f80);
    expect(Number.isNaN(bf16ToF32(new Uint16Array([f32BitsToBf16(bitsOf(NaN))]))[0])).toBe(true);
    expect(Number.isNaN(roundToBf16(NaN))).toBe(true);
  });

  it("round-trips every finite bf16 value exactly", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToBf16(bf16ToF32(all));
    const bad = all.filter((i) => !((i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0) && back[i] !== i);
    expect(bad.length).toBe(0);
  });
});

describe("f16", () => {
  it("decodes normals, subnormals and specials", () => {
    const v = f16ToF32(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00]));
    expect([...v.slice(0, 8)]).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14, -0, Infinity, -Infinity]);
    expect(Number.isNaN(v[8])).toBe(true);
  });

  it("rounds to nearest even, with overflow and underflow", () => {
    expect(f32BitsToF16(bitsOf(65504))).toBe(0x7bff);
    expect(f32BitsToF16(bitsOf(65519))).toBe(0x7bff);
    expect(f32BitsToF16(bitsOf(65520))).toBe(0x7c00); // tie above max → inf
    expect(f32BitsToF16(bitsOf(1 + 2 ** -11))).toBe(0x3c00); // tie → even
    expect(f32BitsToF16(bitsOf(1 + 3 * 2 ** -11))).toBe(0x3c02);
    expect(f32BitsToF16(bitsOf(2 ** -25))).toBe(0x0000); // tie between 0 and min subnormal → 0
    expect(f32BitsToF16(bitsOf(1.5 * 2 ** -25))).toBe(0x0001);
    expect(f32BitsToF16(bitsOf(3 * 2 ** -25))).toBe(0x0002); // tie 1.5 ulp → even
    expect(f32BitsToF16(bitsOf(2 ** -14 - 2 ** -26))).toBe(0x0400); // rounds up into the normals
    expect(f32BitsToF16(bitsOf(-1e-10))).toBe(0x8000);
  });

  it("round-trips every non-NaN f16 value exactly", () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    const bad = all.filter((i) => !((i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0) && back[i] !== i);
    expect(bad.length).toBe(0);
  });
});
