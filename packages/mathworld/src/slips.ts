// Latent skills for the base model: pretraining solutions in which column arithmetic slips.
//
// A worked solution's additions with a carry and subtractions with a borrow are the world's
// "procedures" with a slip: in pretraining they are written, with probability `slipRate`, as if
// the first carry (borrow) were forgotten (47 + 38 = 75, 52 - 17 = 45, 280 + 21 = 201), and the slipped value flows into the later steps and the answer. After such
// a step the text sometimes says "Recheck: 47 + 38 = 85." and goes on with the right value.
// A base model trained on this text knows the right procedure (it writes it in some samples and
// always after "Recheck") but at a slip rate above one half its greedy answer is the slip: a
// skill present at pass@k and missing at pass@1, shared by the training example and every test
// problem with a carry or a borrow, which RL on one example can sharpen. The train/test gold
// solutions (generator.ts) never slip.
import type { Problem } from "./generator.js";
import type { Rng } from "./rng.js";

export interface SlipOptions {
  /** Chance that a step with a carry or a borrow is written with the slip. */
  slipRate: number;
  /** Chance that a step with a carry or a borrow is followed by "Recheck: <step, right>.". */
  recheckRate: number;
}

/** The phrase of the self-check habit (one of the paper's self-reflection words). */
export const RECHECK = "Recheck:";

// families whose add/sub steps may slip: their later steps only add, subtract or box the value,
// so a slipped value stays an integer chain (linear level 3 divides the slipped value: excluded)
const SLIPPABLE = (p: Problem) => p.family === "add_sub" || (p.family === "mul" && p.difficulty >= 2) || (p.family === "linear" && p.difficulty === 1);

const STEP = /^(x = )?(\d+) ([+-]) (\d+) = (\d+)$/;

/** The place value (10, 100, …) that the first carry of a + b (first borrow of a − b) moves; 0 when none. */
export function firstCarry(a: number, op: "+" | "-", b: number): number {
  for (let unit = 1; unit <= Math.max(a, b); unit *= 10) {
    const da = Math.floor(a / unit) % 10, db = Math.floor(b / unit) % 10;
    if (op === "+" ? da + db >= 10 : da < db) return unit * 10;
  }
  return 0;
}

/** True when a + b carries or a − b borrows. */
export function hasCarryOrBorrow(a: number, op: "+" | "-", b: number): boolean {
  return firstCarry(a, op, b) > 0;
}

/** The result written when the first carry (borrow) is forgotten. */
export function slipped(a: number, op: "+" | "-", b: number): number {
  const place = firstCarry(a, op, b);
  return op === "+" ? a + b - place : a - b + place;
}

/** Steps of the problem's worked solution that have a carry or a borrow (0 for families that never slip). */
export function slipSites(p: Problem): number {
  if (!SLIPPABLE(p)) return 0;
  let n = 0;
  for (const s of sentences(p.solution)) {
    const m = STEP.exec(s);
    if (m && hasCarryOrBorrow(Number(m[2]), m[3] as "+" | "-", Number(m[4]))) n++;
  }
  return n;
}

function sentences(solution: string): string[] {
  return solution.split(/(?<=\.) /).map((s) => s.replace(/\.$/, ""));
}

/**
 * The problem's worked solution as a pretraining text with slips and rechecks drawn from `r`.
 * Each step's first operand is the value the text carries (a slip propagates); the final
 * "The answer is \boxed{N}." boxes the carried value. Returns the gold solution when no step slips.
 */
export function writeWithSlips(p: Problem, r: Rng, o: SlipOptions): string {
  if (!SLIPPABLE(p)) return p.solution;
  const out: string[] = [];
  let carried: number | null = null; // the value the text carries into the next step
  let prevTrue: number | null = null; // that step's result in the gold solution
  for (const s of sentences(p.solution)) {
    const m = STEP.exec(s);
    if (!m) {
      if (s.startsWith("The answer is \\boxed{") && carried !== null) out.push(`The answer is \\boxed{${carried}}`);
      else out.push(s);
      continue;
    }
    const prefix = m[1] ?? "";
    const op = m[3] as "+" | "-";
    const b = Number(m[4]);
    // a chain step starts from the previous result; the text starts it from the carried value
    const a: number = prevTrue !== null && Number(m[2]) === prevTrue && carried !== null ? carried : Number(m[2]);
    prevTrue = Number(m[5]);
    const right: number = op === "+" ? a + b : a - b;
    let written: number = right;
    if (hasCarryOrBorrow(a, op, b)) {
      if (r.chance(o.slipRate) && slipped(a, op, b) > 0) written = slipped(a, op, b);
      out.push(`${prefix}${a} ${op} ${b} = ${written}`);
      if (r.chance(o.recheckRate)) {
        out.push(`${RECHECK} ${a} ${op} ${b} = ${right}`);
        written = right;
      }
    } else out.push(`${prefix}${a} ${op} ${b} = ${right}`);
    if (written < 0) return p.solution; // a slip made a later subtraction negative: keep the gold text
    carried = written;
  }
  return out.map((s) => `${s}.`).join(" ");
}
