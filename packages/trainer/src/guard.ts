// The divergence guard: catches a run that has blown up before its state is saved as if it were
// progress. Checks (config section `guard`): the weights and AdamW moments are finite and the
// weights bounded (after every optimizer step, and always before a checkpoint is written);
// consecutive skipped updates (non-finite gradient norm); and the policy entropy's collapse
// (towards 0, or up to the uniform distribution's ln V).
import type { Engine, OptimizerState } from "@rlvr/engine";
import type { TensorData } from "@rlvr/model";

import type { TrainConfig } from "./config.js";

/** The run diverged; nothing from the failing step was saved. */
export class DivergenceError extends Error {
  override name = "DivergenceError";
  constructor(
    message: string,
    readonly step: number,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The first problem among the values of `name`, or null. */
function scanArray(what: string, name: string, a: Float32Array, maxAbs: number): string | null {
  const limit = maxAbs > 0 ? maxAbs : Infinity;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const ax = Math.abs(x);
    // NaN fails `<=`; Infinity passes it only when there is no bound
    if (!(ax <= limit) || ax === Infinity) {
      if (!Number.isFinite(x)) return `${what} ${name}[${i}] is ${x}`;
      return `${what} ${name}[${i}] = ${x.toExponential(3)} exceeds guard.maxWeightAbs (${limit})`;
    }
  }
  return null;
}

/** Checks weights (bounded by maxAbs, 0 = no bound) and AdamW moments (finite). */
export function checkState(weights: Iterable<[string, Float32Array]>, optimizer: OptimizerState | null, maxAbs: number): string | null {
  for (const [name, data] of weights) {
    const bad = scanArray("weight", name, data, maxAbs);
    if (bad) return bad;
  }
  for (const [name, { m, v }] of optimizer?.moments ?? []) {
    const bad = scanArray("AdamW exp_avg of", name, m, 0) ?? scanArray("AdamW exp_avg_sq of", name, v, 0);
    if (bad) return bad;
  }
  return null;
}

/**
 * Reads an engine's weights back (one parameter at a time) and checks them; with `moments`, the
 * AdamW moments too (a non-finite moment reaches the weights at the next update, so the
 * per-update check leaves them to the checkpoint check).
 */
export function checkEngine(engine: Engine, maxAbs: number, opts: { moments?: boolean } = {}): string | null {
  const weights = (function* () {
    for (const n of engine.parameterNames()) yield [n, engine.parameter(n)] as [string, Float32Array];
  })();
  return checkState(weights, opts.moments ? engine.optimizerState() : null, maxAbs);
}

/** The weights of a checkpoint about to be written, as checkState takes them. */
export function weightArrays(w: ReadonlyMap<string, TensorData>): Iterable<[string, Float32Array]> {
  return [...w].map(([n, t]) => [n, t.data]);
}

/** Tracks the per-step signals (skipped updates, entropy) against the configured limits. */
export class DivergenceGuard {
  private skippedRun = 0;

  constructor(
    private readonly g: TrainConfig["guard"],
    private readonly vocabSize: number,
  ) {}

  /**
   * Called once per training step with its optimizer steps' outcome and mean entropy. Returns why
   * the run must stop, or null.
   */
  afterStep(s: { updates: number; skipped: number; entropy: number; entropyFinite: boolean }): string | null {
    // consecutive skipped updates (a step that skipped all its updates adds them all)
    this.skippedRun = s.skipped === s.updates ? this.skippedRun + s.skipped : s.skipped;
    if (s.skipped > 0 && this.skippedRun > this.g.maxSkippedUpdates) {
      return `${this.skippedRun} optimizer updates in a row were skipped (non-finite gradient norm), more than guard.maxSkippedUpdates (${this.g.maxSkippedUpdates})`;
    }
    if (s.updates > 0 && !s.entropyFinite) return "the policy entropy is not finite (the model's outputs are NaN/Inf)";
    if (this.g.minEntropy > 0 && s.entropy < this.g.minEntropy) {
      return `the policy entropy ${s.entropy.toPrecision(3)} fell below guard.minEntropy (${this.g.minEntropy})`;
    }
    const uniform = Math.log(this.vocabSize);
    if (this.g.maxEntropyFrac < 1 && s.entropy >= this.g.maxEntropyFrac * uniform) {
      return `the policy entropy ${s.entropy.toPrecision(3)} reached ${(s.entropy / uniform).toFixed(3)} of the uniform distribution's ln(vocab_size) = ${uniform.toPrecision(3)} (guard.maxEntropyFrac ${this.g.maxEntropyFrac}): the model collapsed to uniform outputs`;
    }
    return null;
  }
}
