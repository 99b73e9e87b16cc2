export * from "./generate.js";
export * from "./rng.js";
export type { StepModel } from "./stepModel.js";
export { engineStepModel } from "./engineStepModel.js";
