// Renders a chat template with bounded work. A template is data from a model directory, and
// @huggingface/jinja runs it with no limit: `{% for i in range(100000000) %}` spun for minutes.
// Every evaluation step is counted, every value a step makes is checked against a length
// limit, and range() is capped, so a hostile or broken template fails fast with a clear error.
import { Interpreter, type Template } from "@huggingface/jinja";

export interface TemplateLimits {
  /** Evaluation steps of one render (expressions, statements and loop iterations). */
  maxSteps: number;
  /** Characters of any string a render makes, the result included. */
  maxChars: number;
  /** Items of one range(). */
  maxRange: number;
}

/**
 * A Qwen-style template takes ~14 steps a message (1,408 for 100 messages); 50,000 steps
 * take about half a second on a loaded 2-core machine.
 */
export const TEMPLATE_LIMITS: Readonly<TemplateLimits> = {
  maxSteps: 50_000,
  maxChars: 10_000_000,
  maxRange: 100_000,
};

/** A render went over one of TEMPLATE_LIMITS. */
export class TemplateLimitError extends Error {
  override name = "TemplateLimitError";
}

type Evaluate = (this: unknown, node: unknown, env: unknown) => { value?: unknown } | undefined;

/** Items of range(start, stop, step) in jinja's reading (one argument: stop). */
function rangeLength(args: unknown[]): number {
  const [a, b, c] = args.map((x) => (x as { value?: unknown } | undefined)?.value);
  const [start, stop] = b === undefined ? [0, a] : [a, b];
  const step = c ?? 1;
  if (typeof start !== "number" || typeof stop !== "number" || typeof step !== "number" || step === 0) return 0; // jinja reports these
  return Math.max(0, Math.ceil((stop - start) / step));
}

type RuntimeFunction = { value: (args: unknown[], scope: unknown) => unknown };

/** Caps the range() of a render's global environment (a fresh one each render). */
function capRange(env: unknown, limits: TemplateLimits): void {
  const range = (env as { variables?: Map<string, unknown> }).variables?.get("range") as RuntimeFunction | undefined;
  if (typeof range?.value !== "function") return;
  const inner = range.value;
  range.value = (args, scope) => {
    const count = rangeLength(args);
    if (count > limits.maxRange) {
      throw new TemplateLimitError(`range() of ${count} items, more than the limit of ${limits.maxRange}`);
    }
    return inner(args, scope);
  };
}

/**
 * template.render(items) under TEMPLATE_LIMITS. The step counter wraps the interpreter's
 * evaluate() for the duration of this call only: the jinja package exposes no hook, rendering
 * is synchronous, and the original is restored before anything else can run. range() is
 * capped in the render's own global environment.
 */
export function renderBounded(template: Template, items: Record<string, unknown>, limits: TemplateLimits = TEMPLATE_LIMITS): string {
  const proto = Interpreter.prototype as unknown as { evaluate: Evaluate; evaluateBlock: Evaluate };
  const { evaluate, evaluateBlock } = proto;
  let steps = 0;
  const step = () => {
    if (++steps > limits.maxSteps) {
      throw new TemplateLimitError(`more than ${limits.maxSteps} evaluation steps (a loop that runs too long?)`);
    }
  };
  const checked = (out: ReturnType<Evaluate>) => {
    const value = out?.value;
    if (typeof value === "string" && value.length > limits.maxChars) {
      throw new TemplateLimitError(`a string of ${value.length} characters, more than the limit of ${limits.maxChars}`);
    }
    return out;
  };
  proto.evaluate = function (node, env) {
    if (steps === 0) capRange(env, limits); // the first step is the program, in the global environment
    step();
    return checked(evaluate.call(this, node, env));
  };
  // a loop runs its body through evaluateBlock once per item, even an empty body
  proto.evaluateBlock = function (statements, env) {
    step();
    return checked(evaluateBlock.call(this, statements, env));
  };
  try {
    return template.render(items);
  } finally {
    proto.evaluate = evaluate;
    proto.evaluateBlock = evaluateBlock;
  }
}
