import type { RolloutInput, RolloutOutput } from "@rlvr/engine";
import type { Tensor } from "@rlvr/native";

/**
 * What the sampler needs from a model: incremental decoding with a KV cache.
 * `begin` prefills the prompts and returns next-token logits [b, v] (f32);
 * `step` appends one token to each listed row and returns their logits [rows, v].
 * Rows are addressed by their index in the `begin` batch. Both may return a promise
 * (the engine's calls run off the JavaScript thread); the sampler awaits one at a time.
 */
export interface StepModel {
  readonly vocabSize: number;
  /** Longest sequence (prompt + response) the model accepts. */
  readonly maxSequenceLength: number;
  begin(prompts: readonly Int32Array[]): Tensor | Promise<Tensor>;
  step(rows: Int32Array, tokens: Int32Array): Tensor | Promise<Tensor>;
  end(): void;
  /**
   * Optional: the whole rollout in one call (the engine's native rollout). generate() uses it
   * when present and no stop strings are given; it must return what the begin / step loop
   * would, bit for bit.
   */
  rollout?(x: RolloutInput): Promise<RolloutOutput>;
}
