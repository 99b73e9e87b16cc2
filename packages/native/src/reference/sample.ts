/** Plain TypeScript reference of the sampling kernel (same selection rule as kernels.h (i)). */
export function sampleRef(
  logits: ArrayLike<number>, b: number, v: number, uniforms: ArrayLike<number>,
  temperature = 1, topP = 1, topK = 0,
): Int32Array {
  const out = new Int32Array(b);
  for (let r = 0; r < b; r++) {
    const z = Array.from({ length: v }, (_, j) => logits[r * v + j] as number);
    let m = -Infinity, arg = 0;
    z.forEach((x, j) => { if (x > m) { m = x; arg = j; } });
    if (temperature === 0) { out[r] = arg; continue; }
    const p = z.map((x) => Math.fround(Math.exp(Math.fround(Math.fround(x * Math.fround(1 / temperature)) - Math.fround(m * Math.fround(1 / temperature))))));
    let cand = p.map((pj, id) => ({ p: pj, id })).filter((c) => c.p > 0);
    const truncated = (topK > 0 && topK < v) || topP < 1;
    if (!truncated) {
      const total = cand.reduce((s, c) => s + c.p, 0);
      let cum = 0, pick = cand[cand.length - 1]!.id;
      for (const c of cand) { cum += c.p; if (cum > (uniforms[r] as number) * total) { pick = c.id; break; } }
      out[r] = pick;
      continue;
    }
    cand.sort((a, c) => c.p - a.p || a.id - c.id);
    if (topK > 0 && topK < cand.length) cand = cand.slice(0, topK);
    if (topP < 1) {
      const mass = cand.reduce((s, c) => s + c.p, 0);
      let cum = 0, keep = cand.length;
      for (let i = 0; i < cand.length; i++) { cum += cand[i]!.p; if (cum >= topP * mass) { keep = i + 1; break; } }
      cand = cand.slice(0, keep);
    }
    const total = cand.reduce((s, c) => s + c.p, 0);
    let cum = 0, pick = cand[cand.length - 1]!.id;
    for (const c of cand) { cum += c.p; if (cum > (uniforms[r] as number) * total) { pick = c.id; break; } }
    out[r] = pick;
  }
  return out;
}
