// The one place that talks to @cortex-js/compute-engine. It parses LaTeX; it never runs
// model text as code.
import { ComputeEngine } from "@cortex-js/compute-engine";

export type MathJson = number | string | { num: string } | { str: string } | { sym: string } | MathJson[];

type BoxedExpression = NonNullable<ReturnType<ComputeEngine["parse"]>>;

let engine: ComputeEngine | null = null;

function ce(): ComputeEngine {
  if (!engine) {
    engine = new ComputeEngine();
    engine.precision = 40;
  }
  return engine;
}

function hasError(json: unknown): boolean {
  if (Array.isArray(json)) return json[0] === "Error" || json.some(hasError);
  return false;
}

/** The parse tree as written (no canonicalization, so nothing is evaluated); null when it does not parse. */
export function parseRaw(latex: string): MathJson | null {
  try {
    const json = ce().parse(latex, { form: "raw" }).json as MathJson;
    return hasError(json) ? null : json;
  } catch {
    return null;
  }
}

function parseCanonical(latex: string): BoxedExpression | null {
  try {
    const expr = ce().parse(latex);
    return expr.isValid ? expr : null;
  } catch {
    return null;
  }
}

function simplifiesToZero(a: BoxedExpression, b: BoxedExpression): boolean {
  return ce().box(["Subtract", a, b]).simplify().json === 0;
}

/**
 * True when a and b canonicalize to the same form, or simplify(a − b) is exactly 0. The
 * engine's simplifier is not symmetric (1 − (sin²x + cos²x) stays put), so both orders
 * and both simplified forms are tried.
 */
export function symbolicallyEqual(a: string, b: string): boolean {
  const ea = parseCanonical(a);
  const eb = parseCanonical(b);
  if (!ea || !eb) return false;
  try {
    return ea.isSame(eb) || simplifiesToZero(ea, eb) || simplifiesToZero(eb, ea) || ea.simplify().isSame(eb.simplify());
  } catch {
    return false;
  }
}

/**
 * A decimal string of the value of a closed-form constant (40 significant digits), or null
 * when it has free variables, is complex or is not finite.
 */
export function numericValue(latex: string): string | null {
  const expr = parseCanonical(latex);
  if (!expr) return null;
  try {
    const value = expr.N();
    const json = value.json as MathJson;
    if (typeof json === "number") return Number.isFinite(json) ? String(json) : null;
    if (json && typeof json === "object" && !Array.isArray(json) && "num" in json) return json.num;
    return null;
  } catch {
    return null;
  }
}
