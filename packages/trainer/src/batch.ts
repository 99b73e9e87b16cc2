// Rollouts and their two layouts:
//  - response layout [B, W]: row i, column j = response token j of rollout i (W = longest response);
//    masks, advantages, old/ref log-probs and aggregation weights live here;
//  - sequence layout [b, L] of one micro-batch: prompt + response, right-padded, as the engine takes
//    it. Response token j of a row with a P-token prompt is scored at position P − 1 + j.
import type { FinishReason } from "@rlvr/sampler";

/** One sampled response with what the trainer needs about it. */
export interface Rollout {
  promptIds: Int32Array;
  responseIds: Int32Array;
  /** log p(token) at the rollout temperature, from the sampler (= the old log-probs). */
  oldLogp: Float32Array;
  text: string;
  finishReason: FinishReason;
  /** Row of the step's prompt batch this response was sampled for: its GRPO group id. */
  group: number;
  /** extra_info.index of the example. */
  exampleIndex: number;
  gold: string;
}

/** Response-layout values [rows, width]. */
export interface ResponseLayout {
  rows: number;
  width: number;
}

export function responseWidth(rollouts: readonly Rollout[]): number {
  return Math.max(1, ...rollouts.map((r) => r.responseIds.length));
}

/** The response mask [B, W]: 1 on each rollout's response tokens. */
export function responseMask(rollouts: readonly Rollout[], width: number): Float32Array {
  const m = new Float32Array(rollouts.length * width);
  rollouts.forEach((r, i) => m.fill(1, i * width, i * width + r.responseIds.length));
  return m;
}

/** Per-token values from per-rollout arrays (e.g. the sampler's log-probs), zero-padded to [B, W]. */
export function toResponseLayout(rows: readonly ArrayLike<number>[], width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(r, i * width));
  return out;
}

/** Broadcasts one value per rollout over its response tokens (× mask). */
export function broadcastRows(values: ArrayLike<number>, mask: Float32Array, width: number): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    for (let j = 0; j < width; j++) out[i * width + j] = v * mask[i * width + j]!;
  }
  return out;
}

/**
 * The distinct (prompt, response) token sequences among the rollouts, first occurrence first, and
 * for each rollout the index of its sequence there. Scoring is row-independent, so identical
 * sequences score identically: a frozen-model pass (reference log-probs, recomputed old
 * log-probs, critic values) scores each one once. In 1-shot RLVR all rows share the prompt and,
 * once the policy sharpens, many responses repeat.
 */
export interface DistinctSequences {
  unique: Rollout[];
  /** Per rollout: the index of its sequence in `unique`. */
  of: Int32Array;
}

export function distinctSequences(rollouts: readonly Rollout[]): DistinctSequences {
  const byHash = new Map<number, number[]>();
  const unique: Rollout[] = [];
  const of = new Int32Array(rollouts.length);
  rollouts.forEach((r, i) => {
    const h = sequenceHash(r);
    const candidates = byHash.get(h);
    const hit = candidates?.find((u) => sameTokens(unique[u]!.promptIds, r.promptIds) && sameTokens(unique[u]!.responseIds, r.responseIds));
    if (hit !== undefined) {
      of[i] = hit;
      return;
    }
    of[i] = unique.length;
    if (candidates) candidates.push(unique.length);
    else byHash.set(h, [unique.length]);
    unique.push(r);
  });
  return { unique, of };
}

/** Rows [U, width] of the distinct sequences back to the rollouts' rows [B, width]. */
export function expandRows(src: Float32Array, of: Int32Array, width: number): Float32Array {
  const out = new Float32Array(of.length * width);
  of.forEach((u, i) => out.set(src.subarray(u * width, (u + 1) * width), i * width));
  return out;
}

function sequenceHash(r: Rollout): number {
  // FNV-1a over both token arrays, with the prompt length mixed in so the split point counts
  let h = 0x811c9dc5 ^ r.promptIds.length;
  for (const ids of [r.promptIds, r.responseIds]) {
    for (let k = 0; k < ids.length; k++) h = Math.imul(h ^ ids[k]!, 0x01000193);
  }
  return h >>> 0;
}

function sameTokens(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** One micro-batch in the engine's sequence layout. */
export interface PackedBatch {
  batch: number;
  length: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  targets: Int32Array;
  /** 1 where a response token is scored. */
  scoreMask: Float32Array;
  /** Flat index of response token 0 of each rollout (token j is at start + j). */
  start: Int32Array;
  respLen: Int32Array;
  /** Packed layout only: [batch, length] segment ids (several rollouts per row). */
  segmentIds?: Int32Array;
}

/**
 * Packs rollouts (prompt + response) for score/forwardBackward: one per row, right-padded; or,
 * with `pack`, several per row (first-fit by decreasing length into rows as long as the longest
 * sequence, segment ids marking them), which drops most of the padding when lengths vary.
 */
export function packSequences(rollouts: readonly Rollout[], opts: { pack?: boolean } = {}): PackedBatch {
  if (opts.pack && rollouts.length > 1) return packRows(rollouts);
  const b = rollouts.length;
  const length = Math.max(...rollouts.map((r) => r.promptIds.length + r.responseIds.length));
  const inputIds = new Int32Array(b * length), attentionMask = new Float32Array(b * length);
  const targets = new Int32Array(b * length), scoreMask = new Float32Array(b * length);
  const start = new Int32Array(b), respLen = new Int32Array(b);
  rollouts.forEach((r, i) => {
    const o = i * length, p = r.promptIds.length, n = r.responseIds.length;
    inputIds.set(r.promptIds, o);
    inputIds.set(r.responseIds, o + p);
    attentionMask.fill(1, o, o + p + n);
    for (let t = 0; t + 1 < p + n; t++) targets[o + t] = inputIds[o + t + 1]!;
    start[i] = o + p - 1;
    respLen[i] = n;
    scoreMask.fill(1, o + p - 1, o + p - 1 + n);
  });
  return { batch: b, length, inputIds, attentionMask, targets, scoreMask, start, respLen };
}

/** Response-layout rows [row0, row0 + rollouts) of `src` into the micro-batch's sequence layout. */
export function scatter(p: PackedBatch, src: Float32Array, width: number, row0: number): Float32Array {
  const out = new Float32Array(p.batch * p.length);
  for (let i = 0; i < p.start.length; i++) {
    const s = p.start[i]!, n = p.respLen[i]!, o = (row0 + i) * width;
    for (let j = 0; j < n; j++) out[s + j] = src[o + j]!;
  }
  return out;
}

/** The micro-batch's per-position values back into response-layout rows [row0, row0 + rollouts) of `dst`. */
export function gather(p: PackedBatch, flat: Float32Array, dst: Float32Array, width: number, row0: number): void {
  for (let i = 0; i < p.start.length; i++) {
    const s = p.start[i]!, n = p.respLen[i]!, o = (row0 + i) * width;
    for (let j = 0; j < n; j++) dst[o + j] = flat[s + j]!;
  }
}

/** Masked mean over the response layout (0 when the mask is empty). */
export function maskedMean(x: Float32Array, mask: Float32Array): number {
  let s = 0, c = 0;
  for (let k = 0; k < x.length; k++) {
    s += x[k]! * mask[k]!;
    c += mask[k]!;
  }
  return c > 0 ? s / c : 0;
}

/** Consecutive [start, end) ranges of `size` over `total` (the last may be shorter). */
export function chunks(total: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < total; s += size) out.push([s, Math.min(total, s + size)]);
  return out;
}

/**
 * How rollouts are grouped into engine calls: the scoring passes (reference / old log-probs,
 * critic values) and the update's micro-batches.
 */
export interface CallBudget {
  /** At most this many rollouts per call. */
  maxRows: number;
  /**
   * At most this many token slots per call: rows x the longest prompt + response among them
   * (a single longer rollout still gets a call of its own). Bounds activation memory; absent:
   * no bound.
   */
  maxTokens?: number;
}

/**
 * Consecutive [start, end) ranges of `rollouts` for engine calls: each as long as `batching`
 * allows. Fewer, larger calls pay (each call runs the shared prompts and pays the per-op thread
 * hand-off once); scoring is row-independent, so the grouping does not change any score, and
 * the update weights every token over its whole mini-batch, so it changes gradients only in
 * fp32 summation order.
 */
export function budgetChunks(rollouts: readonly Rollout[], batching: number | CallBudget): [number, number][] {
  const { maxRows, maxTokens = Infinity } = typeof batching === "number" ? { maxRows: batching } : batching;
  const out: [number, number][] = [];
  let start = 0, widest = 0;
  rollouts.forEach((r, i) => {
    const w = r.promptIds.length + r.responseIds.length;
    const wider = Math.max(widest, w);
    if (i > start && (i - start >= maxRows || (i - start + 1) * wider > maxTokens)) {
      out.push([start, i]);
      start = i;
      widest = w;
    } else {
      widest = wider;
    }
  });
  if (rollouts.length > start) out.push([start, rollouts.length]);
  return out;
}

/** How an update splits its responses: mini-batches (one optimizer step each) of micro-batches. */
export interface MicroBatching {
  /** Responses per optimizer step. */
  miniBatch: number;
  /** Most responses per forward-backward call. */
  microBatch: number;
  /** Token budget of one forward-backward call (CallBudget.maxTokens); absent or 0: no bound. */
  maxTokensPerMicroBatch?: number;
  ppoEpochs: number;
}

/** The micro-batches of the mini-batch [m0, m1) of `rollouts`, as [start, end) relative to m0. */
export function microBatches(rollouts: readonly Rollout[], m0: number, m1: number, o: MicroBatching): [number, number][] {
  return budgetChunks(rollouts.slice(m0, m1), { maxRows: o.microBatch, ...(o.maxTokensPerMicroBatch ? { maxTokens: o.maxTokensPerMicroBatch } : {}) });
}

/** How many forward-backward calls an update over `rollouts` makes (for progress). */
export function microBatchCount(rollouts: readonly Rollout[], o: MicroBatching): number {
  let n = 0;
  for (const [m0, m1] of chunks(rollouts.length, o.miniBatch)) n += microBatches(rollouts, m0, m1, o).length;
  return n * o.ppoEpochs;
}

/**
 * One micro-batch for Engine.scorePrefixed: the distinct prompts of the rollouts, each without
 * its last token (`prefix`, right-padded), and per rollout that last token followed by the
 * response (`ext`, right-padded), so response token j is scored at ext position j. `ext` has the
 * PackedBatch fields, so scatter/gather work on it. Null when a prompt has a single token (no
 * prefix to share).
 */
export function packPrefixed(rollouts: readonly Rollout[]): { prefix: { batch: number; length: number; inputIds: Int32Array; attentionMask: Float32Array }; group: Int32Array; ext: PackedBatch } | null {
  if (rollouts.some((r) => r.promptIds.length < 2)) return null;
  const keys = new Map<string, number>();
  const prompts: Int32Array[] = [];
  const group = new Int32Array(rollouts.length);
  rollouts.forEach((r, i) => {
    const key = r.promptIds.join(",");
    let g = keys.get(key);
    if (g === undefined) {
      g = prompts.length;
      keys.set(key, g);
      prompts.push(r.promptIds);
    }
    group[i] = g;
  });
  const P = Math.max(...prompts.map((p) => p.length - 1));
  const pIds = new Int32Array(prompts.length * P), pMask = new Float32Array(prompts.length * P);
  prompts.forEach((p, g) => {
    pIds.set(p.subarray(0, p.length - 1), g * P);
    pMask.fill(1, g * P, g * P + p.length - 1);
  });
  const b = rollouts.length;
  const length = 1 + Math.max(...rollouts.map((r) => r.responseIds.length));
  const inputIds = new Int32Array(b * length), attentionMask = new Float32Array(b * length);
  const targets = new Int32Array(b * length), scoreMask = new Float32Array(b * length);
  const start = new Int32Array(b), respLen = new Int32Array(b);
  rollouts.forEach((r, i) => {
    const o = i * length, n = r.responseIds.length;
    inputIds[o] = r.promptIds[r.promptIds.length - 1]!;
    inputIds.set(r.responseIds, o + 1);
    attentionMask.fill(1, o, o + 1 + n);
    for (let t = 0; t < n; t++) targets[o + t] = inputIds[o + t + 1]!;
    start[i] = o;
    respLen[i] = n;
    scoreMask.fill(1, o, o + n);
  });
  return {
    prefix: { batch: prompts.length, length: P, inputIds: pIds, attentionMask: pMask },
    group,
    ext: { batch: b, length, inputIds, attentionMask, targets, scoreMask, start, respLen },
  };
}

function packRows(rollouts: readonly Rollout[]): PackedBatch {
  const lens = rollouts.map((r) => r.promptIds.length + r.responseIds.length);
  const length = Math.max(...lens);
  const order = lens.map((_, i) => i).sort((a, b) => lens[b]! - lens[a]! || a - b);
  const rows: { used: number; items: number[] }[] = [];
  for (const i of order) {
    const row = rows.find((r) => r.used + lens[i]! <= length);
    if (row) {
      row.items.push(i);
      row.used += lens[i]!;
    } else {
      rows.push({ used: lens[i]!, items: [i] });
    }
  }
  const b = rows.length;
  const inputIds = new Int32Array(b * length), attentionMask = new Float32Array(b * length);
  const targets = new Int32Array(b * length), scoreMask = new Float32Array(b * length), segmentIds = new Int32Array(b * length);
  const start = new Int32Array(rollouts.length), respLen = new Int32Array(rollouts.length);
  rows.forEach((row, k) => {
    let o = k * length;
    row.items.forEach((i, seg) => {
      const r = rollouts[i]!, p = r.promptIds.length, n = r.responseIds.length;
      inputIds.set(r.promptIds, o);
      inputIds.set(r.responseIds, o + p);
      attentionMask.fill(1, o, o + p + n);
      segmentIds.fill(seg, o, (seg === row.items.length - 1 ? k * length + length : o + p + n)); // padding continues the last
      for (let t = 0; t + 1 < p + n; t++) targets[o + t] = inputIds[o + t + 1]!;
      start[i] = o + p - 1;
      respLen[i] = n;
      scoreMask.fill(1, o + p - 1, o + p - 1 + n);
      o += p + n;
    });
  });
  return { batch: b, length, inputIds, attentionMask, targets, scoreMask, start, respLen, segmentIds };
}
