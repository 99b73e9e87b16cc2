export * from "./engine.js";
export type { NativeEngine, NativeEngineConfig } from "./addonTypes.js";
