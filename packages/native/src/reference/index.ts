export * from "./logprob.js";
export * from "./losses.js";
export * from "./advantage.js";
export * from "./policyLoss.js";
export * from "./half.js";
export * from "./sample.js";
