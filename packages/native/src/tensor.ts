import type { DType, Device, GpuBufferHandle, TensorDescriptor } from "./addonTypes.js";
import { DeviceError, DTypeError, ShapeError, callNative } from "./errors.js";
import { loadAddon } from "./load.js";

export type HostArray = Float32Array | Int32Array | Uint16Array | Uint8Array;

const hostCtor = {
  f32: Float32Array,
  i32: Int32Array,
  f16: Uint16Array,
  bf16: Uint16Array,
  u8: Uint8Array,
} as const;

export function dtypeBytes(d: DType): number {
  return hostCtor[d].BYTES_PER_ELEMENT;
}

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`shape entries must be non-negative integers, got [${shape.join(", ")}]`, "ERR_RLVR_SHAPE", "shape");
    n *= d;
  }
  return n;
}

function parseDevice(device: Device): number {
  if (device === "cpu") return -1;
  const m = /^cuda:(\d+)$/.exec(device);
  if (!m) throw new DeviceError(`invalid device "${device}" (expected "cpu" or "cuda:N")`, "ERR_RLVR_DEVICE", "device");
  return Number(m[1]);
}

/**
 * A dense row-major tensor. CPU tensors are zero-copy views of a typed array
 * (f16/bf16 are stored as raw Uint16 bits); CUDA tensors own an opaque device
 * buffer and move to and from the host only through explicit copies.
 */
export class Tensor implements TensorDescriptor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly device: Device;
  readonly data?: HostArray;
  readonly buffer?: GpuBufferHandle;

  private constructor(dtype: DType, shape: readonly number[], device: Device, data?: HostArray, buffer?: GpuBufferHandle) {
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.device = device;
    if (data) this.data = data;
    if (buffer) this.buffer = buffer;
  }

  get numel(): number {
    return numelOf(this.shape);
  }

  /** Wraps a typed array (no copy). The dtype defaults from the array type (Uint16Array: bf16). */
  static from(data: HostArray, shape: readonly number[] = [data.length], dtype?: DType): Tensor {
    const dt = dtype ?? inferDType(data);
    if (!(data instanceof hostCtor[dt])) {
      throw new DTypeError(`data: a ${dt} tensor needs a ${hostCtor[dt].name}, got ${data.constructor.name}`, "ERR_RLVR_DTYPE", "data");
    }
    if (numelOf(shape) !== data.length) {
      throw new ShapeError(`shape [${shape.join(", ")}] holds ${numelOf(shape)} elements but data has ${data.length}`, "ERR_RLVR_SHAPE", "shape");
    }
    return new Tensor(dt, shape, "cpu", data);
  }

  /** A zero-filled tensor on the given device. */
  static zeros(shape: readonly number[], dtype: DType = "f32", device: Device = "cpu"): Tensor {
    const n = numelOf(shape);
    const dev = parseDevice(device);
    if (dev < 0) return new Tensor(dtype, shape, "cpu", new hostCtor[dtype](n));
    const addon = loadAddon();
    const buffer = callNative(() => new addon.GpuBuffer(dev, n * dtypeBytes(dtype)));
    const t = new Tensor(dtype, shape, device, undefined, buffer);
    // device memory is uninitialized: zero it through a host copy of zeros
    callNative(() => buffer.copyFromHost(new Uint8Array(n * dtypeBytes(dtype))));
    return t;
  }

  /** Copies to another device ("cpu" or "cuda:N"); returns this when already there. */
  to(device: Device): Tensor {
    if (device === this.device) return this;
    const dev = parseDevice(device);
    if (dev < 0) {
      const host = new hostCtor[this.dtype](this.numel);
      callNative(() => this.buffer!.copyToHost(host));
      return new Tensor(this.dtype, this.shape, "cpu", host);
    }
    if (this.device !== "cpu") return this.to("cpu").to(device);
    const addon = loadAddon();
    const buffer = callNative(() => new addon.GpuBuffer(dev, this.numel * dtypeBytes(this.dtype)));
    callNative(() => buffer.copyFromHost(this.data!));
    return new Tensor(this.dtype, this.shape, device, undefined, buffer);
  }

  /** The host typed array (copying from the device when needed). */
  toArray(): HostArray {
    return this.device === "cpu" ? this.data! : this.to("cpu").data!;
  }

  /** Same storage, new shape with the same number of elements. */
  reshape(shape: readonly number[]): Tensor {
    if (numelOf(shape) !== this.numel) {
      throw new ShapeError(`shape: cannot reshape [${this.shape.join(", ")}] to [${shape.join(", ")}]`, "ERR_RLVR_SHAPE", "shape");
    }
    return new Tensor(this.dtype, shape, this.device, this.data, this.buffer);
  }

  /** Releases device memory now instead of at garbage collection. */
  free(): void {
    this.buffer?.free();
  }
}

function inferDType(data: HostArray): DType {
  if (data instanceof Float32Array) return "f32";
  if (data instanceof Int32Array) return "i32";
  if (data instanceof Uint16Array) return "bf16";
  return "u8";
}
