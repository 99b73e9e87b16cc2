// Typed errors for model directory I/O. Every message names the file (and field or
// tensor) involved and, where it helps, what would have been accepted.

/** Base class of every error thrown by @rlvr/model. */
export class ModelError extends Error {
  override name = "ModelError";
}

/** A file is missing, unreadable, not valid JSON, or structurally corrupt. */
export class ModelFileError extends ModelError {
  override name = "ModelFileError";
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** A safetensors file whose header or layout is invalid (bad header, truncated, overlapping data). */
export class SafetensorsFormatError extends ModelFileError {
  override name = "SafetensorsFormatError";
}

/** A tensor stored in a dtype this package cannot convert (only F32, BF16 and F16 are supported). */
export class UnsupportedDtypeError extends ModelFileError {
  override name = "UnsupportedDtypeError";
  constructor(
    path: string,
    readonly tensor: string,
    readonly dtype: string,
  ) {
    super(path, `tensor "${tensor}" has dtype ${dtype}; supported dtypes are F32, BF16 and F16`);
  }
}

/** A weight tensor holds NaN or ±Infinity (a damaged or diverged checkpoint). */
export class NonFiniteWeightError extends ModelFileError {
  override name = "NonFiniteWeightError";
  constructor(
    path: string,
    readonly tensor: string,
    readonly index: number,
    readonly value: number,
    readonly count: number,
  ) {
    super(
      path,
      `tensor "${tensor}" has ${count} non-finite value(s), the first (${value}) at index ${index}: ` +
        `the checkpoint is damaged or was saved after training diverged; load an earlier checkpoint`,
    );
  }
}

/** The weights of a model would not fit in the memory available. */
export class InsufficientMemoryError extends ModelFileError {
  override name = "InsufficientMemoryError";
  constructor(
    path: string,
    readonly neededBytes: number,
    readonly availableBytes: number,
  ) {
    const gb = (b: number) => `${(b / 1e9).toFixed(b < 1e8 ? 3 : 1)} GB`;
    super(
      path,
      `reading the weights as f32 needs ${gb(neededBytes)} of memory but ${gb(availableBytes)} is available: ` +
        `use a smaller model or a machine with more memory (RLVR_MEMORY_CHECK=0 skips this check)`,
    );
  }
}

/** One invalid field of a JSON config file. */
export interface ConfigIssue {
  field: string;
  message: string;
}

/** config.json (or another JSON config) has a missing, mistyped or inconsistent field. */
export class ModelConfigError extends ModelError {
  override name = "ModelConfigError";
  readonly field: string;
  constructor(
    readonly path: string,
    readonly issues: ConfigIssue[],
  ) {
    super(
      `${path}: invalid config: ` +
        issues.map((i) => `field "${i.field}": ${i.message}`).join("; "),
    );
    this.field = issues[0]?.field ?? "";
  }
}

/** config.json names an architecture other than the supported ones. */
export class UnsupportedArchitectureError extends ModelConfigError {
  override name = "UnsupportedArchitectureError";
  constructor(
    path: string,
    readonly architecture: string,
    readonly supported: readonly string[],
  ) {
    super(path, [
      {
        field: "architectures",
        message: `unsupported architecture "${architecture}"; supported: ${supported.join(", ")}`,
      },
    ]);
  }
}

export interface ShapeMismatch {
  name: string;
  expected: readonly number[];
  actual: readonly number[];
}

/** The tensors in the weight files do not match what the config implies. */
export class TensorMismatchError extends ModelError {
  override name = "TensorMismatchError";
  constructor(
    readonly source: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly wrongShape: ShapeMismatch[],
  ) {
    const parts: string[] = [];
    const list = (xs: string[]) =>
      xs.slice(0, 20).join(", ") + (xs.length > 20 ? ` (and ${xs.length - 20} more)` : "");
    if (missing.length > 0) parts.push(`missing ${missing.length} tensor(s): ${list(missing)}`);
    if (unexpected.length > 0) {
      parts.push(`unexpected ${unexpected.length} tensor(s): ${list(unexpected)}`);
    }
    if (wrongShape.length > 0) {
      const shapes = wrongShape.map(
        (m) => `${m.name} has shape [${m.actual.join(", ")}], expected [${m.expected.join(", ")}]`,
      );
      parts.push(`wrong shape: ${list(shapes)}`);
    }
    super(`${source}: tensors do not match config.json: ${parts.join("; ")}`);
  }
}

/** A prompt has more tokens than the model's context (or a caller-given limit). */
export class PromptTooLongError extends ModelError {
  override name = "PromptTooLongError";
  constructor(
    readonly length: number,
    readonly maxLength: number,
  ) {
    super(`prompt has ${length} tokens, more than the maximum of ${maxLength}`);
  }
}
