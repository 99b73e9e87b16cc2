// Time limits of a verification. Node's setTimeout turns any delay of 2^31 ms or more (and
// NaN, negatives, fractions below 1) into 1 ms, so an unchecked limit can silently make every
// verification a time-out; limits are checked here, where every caller (the pool, the CLI's
// --timeout, the trainer's reward.timeoutMs) can name the option the value came from.

/** Smallest limit accepted, ms. */
export const MIN_TIMEOUT_MS = 1;
/** Largest limit accepted, ms: 2^31 − 1, the longest delay setTimeout honours (about 24.8 days). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A time limit that setTimeout would not honour; `option` names where it came from. */
export class InvalidTimeLimitError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
  ) {
    super(
      `${option} must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS} ` +
        `(2^31 - 1, about 24.8 days: Node turns longer delays into 1 ms), got ${describe(value)}`,
    );
    this.name = "InvalidTimeLimitError";
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  return value === null ? "null" : typeof value;
}

/**
 * The time limit as a number of ms, checked: an integer with 1 <= t < 2^31. Numeric strings
 * (a CLI flag) are read as numbers. Throws InvalidTimeLimitError naming `option`
 * (e.g. "--timeout", "reward.timeoutMs") otherwise.
 */
export function checkTimeLimitMs(value: unknown, option: string): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < MIN_TIMEOUT_MS || n > MAX_TIMEOUT_MS) {
    throw new InvalidTimeLimitError(option, value);
  }
  return n;
}
