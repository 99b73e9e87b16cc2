/**
 * Typed errors of rlvr's native layer. The addon throws plain errors carrying
 * `code` and `argument`; `rethrowNative` turns them into these classes while
 * keeping the JavaScript stack of the call site.
 */
export class RlvrError extends Error {
  readonly code: string;
  readonly argument: string | undefined;
  constructor(message: string, code: string, argument?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.argument = argument;
  }
}

/** A tensor has the wrong shape, or shapes disagree. */
export class ShapeError extends RlvrError {}
/** A tensor has an unsupported dtype for this argument. */
export class DTypeError extends RlvrError {}
/** An index (token id, group size) is out of range. */
export class IndexRangeError extends RlvrError {}
/** A value is invalid: NaN/inf where finite values are required, bad option values. */
export class ValueError extends RlvrError {}
/** The wrong device, or a device (CUDA) that is not available. */
export class DeviceError extends RlvrError {}
/** A failure inside the native layer (CUDA runtime error). */
export class InternalError extends RlvrError {}
/**
 * An allocation failed, on the host or the device. Nothing was changed that the caller must
 * undo; a smaller batch, token budget or activation budget may fit.
 */
export class OutOfMemoryError extends RlvrError {}

/** The addon could not be loaded; the message lists what was tried and how to fix it. */
export class NativeLoadError extends RlvrError {
  constructor(message: string) {
    super(message, "ERR_RLVR_LOAD");
  }
}

const byCode: Record<string, new (m: string, c: string, a?: string) => RlvrError> = {
  ERR_RLVR_SHAPE: ShapeError,
  ERR_RLVR_DTYPE: DTypeError,
  ERR_RLVR_RANGE: IndexRangeError,
  ERR_RLVR_VALUE: ValueError,
  ERR_RLVR_DEVICE: DeviceError,
  ERR_RLVR_INTERNAL: InternalError,
  ERR_RLVR_OUT_OF_MEMORY: OutOfMemoryError,
};

/** Runs a native call, converting its errors into the typed classes above. */
export function callNative<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toTypedError(e);
  }
}

export function toTypedError(e: unknown): unknown {
  if (e instanceof RlvrError || !(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  const Ctor = typeof code === "string" ? byCode[code] : undefined;
  if (!Ctor) return e;
  const arg = (e as { argument?: unknown }).argument;
  return new Ctor(e.message, code as string, typeof arg === "string" && arg !== "" ? arg : undefined);
}
