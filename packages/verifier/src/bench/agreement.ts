// Agreement of the graders with reference verdicts, for the bench:
// - the qwen-math grader against the Qwen2.5-Math protocol's verdicts on its own kind of cases
//   (cases/qwenMath.ts: written anew from the protocol's documented behaviour, not copied);
// - both graders against verl's math reward (verlMath.ts, written anew) on the same responses:
//   every case of the case table, the qwen-math cases and the family cases.
import { CASES, responseOf } from "../cases/index.js";
import { PEER_CASES, type PeerKind } from "../cases/peerSuites.js";
import { QWEN_MATH_CASES } from "../cases/qwenMath.js";
import { GRADERS, type GraderName } from "../graders/index.js";
import { verlMathCorrect } from "./verlMath.js";

export interface AgreementReport {
  note: string;
  qwenCases: { cases: number; agree: number; percent: number; disagreements: string[] };
  labeledCases: Record<GraderName, { cases: number; agree: number; percent: number; falseAccepts: number }>;
  verl: Record<GraderName, { responses: number; agree: number; percent: number; acceptedOnlyByUs: number; acceptedOnlyByVerl: number; examplesOnlyVerl: string[] }>;
  peerSuites: PeerSuitesReport;
}

/** Agreement with the verdicts asserted by peers' own test suites (cases/peerSuites.ts, held out). */
export interface PeerSuitesReport {
  note: string;
  sources: string[];
  cases: Record<PeerKind, number>;
  graders: Record<GraderName, {
    byKind: Record<PeerKind, { cases: number; agree: number; percent: number }>;
    falseAccepts: number;
    misses: string[];
  }>;
}

const KINDS: readonly PeerKind[] = ["boxed", "free-text", "negative"];

export async function peerSuiteAgreement(): Promise<PeerSuitesReport> {
  const cases = Object.fromEntries(KINDS.map((k) => [k, PEER_CASES.filter((c) => c.kind === k).length])) as Record<PeerKind, number>;
  const graders = Object.fromEntries(
    await Promise.all((["boxed", "qwen-math"] as const).map(async (g) => {
      const rows = await mapYielding(PEER_CASES, (c) => ({ c, got: GRADERS[g](c.response, c.gold).correct }));
      const byKind = Object.fromEntries(KINDS.map((k) => {
        const of = rows.filter((r) => r.c.kind === k);
        const agree = of.filter((r) => r.got === r.c.expected).length;
        return [k, { cases: of.length, agree, percent: pct(agree, of.length) }];
      }));
      const misses = rows.filter((r) => r.got !== r.c.expected && !(g === "boxed" && r.c.kind === "free-text"));
      return [g, {
        byKind,
        falseAccepts: rows.filter((r) => r.got && !r.c.expected).length,
        misses: misses.map((r) => `${r.c.kind}: ${JSON.stringify(r.c.response.slice(-70))} vs gold ${JSON.stringify(r.c.gold)} (peer: ${r.c.expected ? "accept" : "reject"}; ${r.c.source.split(" ")[0]})`),
      }];
    })),
  ) as PeerSuitesReport["graders"];
  return {
    note: "Held-out cases from peers' own test suites, each with the verdict the peer's test asserts (answer strings as data, responses abridged; see cases/peerSuites.ts). Free-text answers are not a boxed-grader target: it reads boxes only.",
    sources: [...new Set(PEER_CASES.map((c) => c.source.replace(/ \(.*$/, "")))],
    cases,
    graders,
  };
}

const pct = (a: number, n: number) => Number(((100 * a) / Math.max(1, n)).toFixed(1));

/** Maps in chunks, giving the event loop a turn between them (about a thousand verifications in all). */
async function mapYielding<T, U>(xs: readonly T[], f: (x: T) => U): Promise<U[]> {
  const out: U[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (i % 25 === 24) await new Promise<void>((resolve) => setImmediate(resolve));
    out.push(f(xs[i]!));
  }
  return out;
}

export async function agreement(): Promise<AgreementReport> {
  const qwen = await mapYielding(QWEN_MATH_CASES, (c) => ({ c, ok: GRADERS["qwen-math"](c.response, c.gold).correct === c.qwen }));
  const table = Object.entries(CASES).filter(([k]) => k !== "pathological").flatMap(([, cs]) => cs);
  const labeled = Object.fromEntries(
    await Promise.all((["boxed", "qwen-math"] as const).map(async (g) => {
      // The case table's verdicts are the boxed grader's; qwen-math may accept more (unboxed and approximate answers).
      const verdicts = await mapYielding(table, (c) => ({ c, got: GRADERS[g](responseOf(c), c.gold).correct }));
      const agree = verdicts.filter((v) => v.got === v.c.correct).length;
      return [g, { cases: table.length, agree, percent: pct(agree, table.length), falseAccepts: verdicts.filter((v) => v.got && !v.c.correct).length }];
    })),
  ) as AgreementReport["labeledCases"];
  const pairs = [...table.map((c) => ({ response: responseOf(c), gold: c.gold })), ...QWEN_MATH_CASES.map((c) => ({ response: c.response, gold: c.gold }))];
  const verl = Object.fromEntries(
    await Promise.all((["boxed", "qwen-math"] as const).map(async (g) => {
      const rows = await mapYielding(pairs, (p) => ({ p, ours: GRADERS[g](p.response, p.gold).correct, verl: verlMathCorrect(p.response, p.gold) }));
      const agree = rows.filter((r) => r.ours === r.verl).length;
      const onlyVerl = rows.filter((r) => r.verl && !r.ours);
      return [g, {
        responses: rows.length, agree, percent: pct(agree, rows.length),
        acceptedOnlyByUs: rows.filter((r) => r.ours && !r.verl).length, acceptedOnlyByVerl: onlyVerl.length,
        examplesOnlyVerl: onlyVerl.slice(0, 10).map((r) => `${JSON.stringify(r.p.response.slice(0, 80))} vs gold ${JSON.stringify(r.p.gold)}`),
      }];
    })),
  ) as AgreementReport["verl"];
  return {
    note: "Reference verdicts written anew from the Qwen2.5-Math evaluation's and verl's documented behaviour (no internet, no code or test cases copied); the verl reward is a re-implementation for comparison only.",
    qwenCases: { cases: qwen.length, agree: qwen.filter((q) => q.ok).length, percent: pct(qwen.filter((q) => q.ok).length, qwen.length), disagreements: qwen.filter((q) => !q.ok).map((q) => q.c.why) },
    labeledCases: labeled,
    verl,
    peerSuites: await peerSuiteAgreement(),
  };
}
