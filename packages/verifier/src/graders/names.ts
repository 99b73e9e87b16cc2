// The graders by name: how an answer is read from a response and how leniently it is compared.
// `boxed` is the training reward's default, `qwen-math` the evaluation's (the protocol behind the
// paper's numbers). Both share the semantic equivalence families (equivalence.ts).

export const GRADER_NAMES = ["boxed", "qwen-math"] as const;
export type GraderName = (typeof GRADER_NAMES)[number];

export const GRADER_DOCS: Readonly<Record<GraderName, string>> = {
  boxed:
    "strict: the last \\boxed{} group after </think> (no other extraction unless fallbacks are given); " +
    "normalized-string, structural, exact-rational, 6-decimal (when a side is a decimal) and symbolic equality; no relative tolerance",
  "qwen-math":
    "the Qwen2.5-Math evaluation protocol: the last \\boxed{}, else the text after the last \"the answer is\", else after " +
    "\"final answer is\" (to the end of its sentence), else the last math span when no number follows it, else the last number " +
    "(a simple fraction a/b is one number); a trailing \\text{...} unit is dropped; everything the boxed grader accepts, " +
    "plus numbers within a relative tolerance of 1e-4, and percent leniency (the gold g also matches g/100 and 100g)",
};

/** An unknown grader name; `key` names where it came from (a flag or a config key). */
export class UnknownGraderError extends Error {
  override name = "UnknownGraderError";
  constructor(
    readonly key: string,
    readonly value: unknown,
  ) {
    super(`${key}: unknown grader ${JSON.stringify(value)}; use one of ${GRADER_NAMES.map((g) => `"${g}"`).join(", ")}`);
  }
}

export function isGraderName(value: unknown): value is GraderName {
  return typeof value === "string" && (GRADER_NAMES as readonly string[]).includes(value);
}

/** The grader name, checked; throws UnknownGraderError naming `key` (e.g. "--grader", "eval.grader"). */
export function checkGraderName(value: unknown, key: string): GraderName {
  if (!isGraderName(value)) throw new UnknownGraderError(key, value);
  return value;
}
