/**
 * Counter-based uniforms: u(seed, stream, step) is a pure hash, so a sample's
 * randomness depends only on (seed, which sample, which position) — not on
 * batch composition, scheduling or how many other sequences finished. That
 * makes generation reproducible across batch sizes and trivially resumable.
 */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform in [0, 1) with 24 bits of resolution (exactly representable in f32). */
export function counterUniform(seed: number, stream: number, step: number): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(stream >>> 0, 0x27d4eb2f) ^ (Math.floor(stream / 2 ** 32) >>> 0));
  h = fmix32(h ^ Math.imul((step >>> 0) + 0x165667b1, 0x61c88647));
  return (h >>> 8) / 16777216;
}
