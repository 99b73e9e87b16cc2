export * from "./rng.js";
export * from "./generator.js";
export * from "./tokenizer.js";
export * from "./export.js";
export * from "./slips.js";
export * from "./pretrain.js";
export * from "./preset.js";
export * from "./sampling.js";
