// The real-gold audit: every gold must verify equal to itself in \boxed{}, and unequal to
// the gold of a different problem when the two differ as numbers.
import { numericValue } from "./engine.js";
import type { GoldItem } from "./datasets.js";
import { normalizeAnswer } from "./normalize.js";
import type { GraderName } from "./graders/names.js";
import { verifySync } from "./verify.js";

/** Verifications between two turns given back to the event loop (a full audit takes seconds). */
const CHUNK = 100;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface GoldAudit {
  golds: number;
  selfEqual: number;
  selfFailures: { source: string; index: number; gold: string; reason: string }[];
  crossPairs: number;
  crossRejected: number;
  crossFailures: { source: string; gold: string; other: string; reason: string }[];
}

function numberOf(gold: string): number | null {
  const text = numericValue(normalizeAnswer(gold));
  return text === null ? null : Number(text);
}

export async function auditGolds(items: readonly GoldItem[], grader: GraderName = "boxed"): Promise<GoldAudit> {
  const audit: GoldAudit = { golds: items.length, selfEqual: 0, selfFailures: [], crossPairs: 0, crossRejected: 0, crossFailures: [] };
  let done = 0;
  for (const item of items) {
    if (++done % CHUNK === 0) await yieldToLoop();
    const r = verifySync(`The answer is \\boxed{${item.gold}}.`, item.gold, { grader });
    if (r.correct) audit.selfEqual++;
    else audit.selfFailures.push({ source: item.source, index: item.index, gold: item.gold, reason: r.reason });
  }
  // Each gold against the next one of the same source whose value differs as a number.
  const numeric: (GoldItem & { value: number | null })[] = [];
  for (const item of items) {
    if (++done % CHUNK === 0) await yieldToLoop();
    const value = numberOf(item.gold);
    if (value !== null && Number.isFinite(value)) numeric.push({ ...item, value });
  }
  for (let k = 0; k < numeric.length; k++) {
    if (++done % CHUNK === 0) await yieldToLoop();
    const a = numeric[k]!;
    const b = numeric.slice(k + 1).find((x) => x.source === a.source && Math.abs(x.value! - a.value!) > 1e-9 * Math.max(1, Math.abs(a.value!)));
    if (!b) continue;
    audit.crossPairs++;
    const r = verifySync(`The answer is \\boxed{${b.gold}}.`, a.gold, { grader });
    if (!r.correct) audit.crossRejected++;
    else audit.crossFailures.push({ source: a.source, gold: a.gold, other: b.gold, reason: r.reason });
  }
  return audit;
}
