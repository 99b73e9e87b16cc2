import type { Tensor } from "@rlvr/native";

/**
 * What the sampler needs from a model: incremental decoding with a KV cache.
 * `begin` prefills the prompts and returns next-token logits [b, v] (f32);
 * `step` appends one token to each listed row and returns their logits [rows, v].
 * Rows are addressed by their index in the `begin` batch.
 */
export interface StepModel {
  readonly vocabSize: number;
  /** Longest sequence (prompt + response) the model accepts. */
  readonly maxSequenceLength: number;
  begin(prompts: readonly Int32Array[]): Tensor;
  step(rows: Int32Array, tokens: Int32Array): Tensor;
  end(): void;
}
