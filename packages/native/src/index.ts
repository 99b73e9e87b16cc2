export * from "./errors.js";
export * from "./tensor.js";
export * from "./kernels.js";
export * from "./info.js";
export { exitNow } from "./process.js";
export { loadAddon } from "./load.js";
export type { BuildInfo, CpuIsaInfo, CpuIsaName, DeviceInfo, DType, Device, TensorDescriptor } from "./addonTypes.js";
