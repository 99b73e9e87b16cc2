// Progress output: a redrawn bar with ETA on a TTY, one plain line per step otherwise; inside a
// step, the rollout's and the update's progress (redrawn at most once a second on a TTY; off a
// TTY a summary line per slow phase, so logs of fast runs keep one line a step).
import type { StepMetrics } from "@rlvr/data";

/** Where a phase of a step stands (the trainer's "progress" events). */
export interface StepProgress {
  step: number;
  /** "eval": the evaluation at this step (0: before training), per decode step of each benchmark. */
  phase: "rollout" | "update" | "critic" | "eval";
  done: number;
  total: number;
  /** Rollout and eval: tokens generated so far. */
  tokens?: number;
  /** Since the phase started. */
  seconds: number;
}

export interface ProgressOptions {
  /** Milliseconds, for the TTY redraw limit (default Date.now). */
  clock?: () => number;
  /** Off a TTY, a phase that took at least this long gets a summary line (default 10 s). */
  quietSeconds?: number;
}

/** "rollout 12/16 sequences, 3,400 tokens, 850 tok/s" / "update 3/8 micro-batches". */
export function describeProgress(p: StepProgress): string {
  if (p.phase === "rollout" || p.phase === "eval") {
    const rate = p.seconds > 0 && p.tokens ? `, ${f(p.tokens / p.seconds)} tok/s` : "";
    return `${p.phase} ${p.done}/${p.total} sequences${p.tokens !== undefined ? `, ${p.tokens} tokens` : ""}${rate}`;
  }
  return `${p.phase} ${p.done}/${p.total} micro-batches`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(r).padStart(2, "0")}s` : `${r}s`;
}

const f = (x: number, d = 3) => (Math.abs(x) >= 1000 ? x.toFixed(0) : String(Number(x.toPrecision(d))));

export function stepSummary(m: StepMetrics): string {
  const parts = [
    `reward ${f(m.reward_mean)}`, `acc ${f(m.train_acc)}`, `H ${f(m.entropy)}`,
    `len ${f(m.response_length_mean)}`, `kl ${f(m.kl)}`,
  ];
  // skipped updates (non-finite gradient norm) are shown as such, not as a gradient norm of 0
  const x = m as StepMetrics & { skipped_updates?: number; optimizer_steps?: number };
  const skipped = x.skipped_updates ?? 0, updates = x.optimizer_steps ?? 0;
  if (skipped > 0 && skipped === updates) parts.push(`gnorm non-finite: update skipped${updates > 1 ? ` (${skipped}/${updates})` : ""}`);
  else parts.push(`gnorm ${f(m.grad_norm)}${skipped > 0 ? ` (${skipped}/${updates} updates skipped)` : ""}`);
  if (m.test) parts.push(`test ${Object.entries(m.test).map(([k, v]) => `${k}=${(v * 100).toFixed(1)}%`).join(" ")}`);
  return parts.join(" ");
}

/**
 * Where a run's time went: mean seconds per step and each phase's share, over the given steps
 * (the first one is left out when there are others: it pays one-time warm-up). The "rest" is
 * everything but rollout and update. Null without steps.
 */
export function phaseSummary(metrics: readonly StepMetrics[]): { stepSeconds: number; share: Record<string, number>; rest: number; text: string } | null {
  const ms = metrics.length > 1 ? metrics.slice(1) : metrics;
  if (ms.length === 0) return null;
  const names = ["rollout", "reward", "old_logp", "ref_logp", "values", "update", "critic"] as const;
  const mean = Object.fromEntries(names.map((k) => [k, ms.reduce((a, m) => a + (m.phase_s[k] ?? 0), 0) / ms.length]));
  const total = names.reduce((a, k) => a + mean[k]!, 0);
  // phases that took time (at least 0.05 % of the step: old_logp is a copy unless recomputed)
  const share = Object.fromEntries(names.filter((k) => total > 0 && mean[k]! / total >= 5e-4).map((k) => [k, mean[k]! / total]));
  const rest = total > 0 ? 1 - (mean.rollout! + mean.update!) / total : 0;
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
  const text = `time per step ${f(total)} s: ${Object.entries(share).map(([k, v]) => `${k} ${pct(v)}`).join(", ")} (all but rollout and update: ${pct(rest)})`;
  return { stepSeconds: total, share, rest, text };
}

export class Progress {
  private readonly tty: boolean;
  private readonly times: number[] = [];
  private lastBar = "";
  private readonly clock: () => number;
  private readonly quietSeconds: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastPhase = "";

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly totalSteps: number,
    private readonly firstStep: number,
    o: ProgressOptions = {},
  ) {
    this.tty = out.isTTY === true;
    this.clock = o.clock ?? Date.now;
    this.quietSeconds = o.quietSeconds ?? 10;
  }

  /** ETA from the mean of the recent step durations. */
  eta(step: number): number {
    const recent = this.times.slice(-10);
    const mean = recent.reduce((a, b) => a + b, 0) / Math.max(1, recent.length);
    return mean * (this.totalSteps - step);
  }

  private bar(stepsDone: number): string {
    const width = 24, done = Math.round((width * stepsDone) / this.totalSteps);
    const eta = this.times.length > 0 ? formatDuration(this.eta(stepsDone)) : "?";
    return `[${"#".repeat(done)}${".".repeat(width - done)}] ${stepsDone}/${this.totalSteps} ETA ${eta}`;
  }

  private draw(line: string): void {
    // columns is 0 on a terminal that does not report its size
    this.lastBar = line.slice(0, Math.max(20, (this.out.columns || 120) - 1));
    this.out.write(`\r\x1b[K${this.lastBar}`);
  }

  step(m: StepMetrics, stepSeconds: number): void {
    this.times.push(stepSeconds);
    const eta = formatDuration(this.eta(m.step));
    this.lastPhase = "";
    if (this.tty) {
      this.draw(`${this.bar(m.step)} ${stepSummary(m)}`);
      if (m.test) this.out.write("\n");
    } else {
      this.out.write(`step ${m.step}/${this.totalSteps} ${stepSummary(m)} ${stepSeconds.toFixed(2)}s/step ETA ${eta}\n`);
    }
  }

  /**
   * Progress inside a step. TTY: the bar with the phase's progress, redrawn when the phase
   * changes or ends and otherwise at most once a second. Elsewhere: one line when a phase ends,
   * only for a phase that took quietSeconds or more.
   */
  inStep(p: StepProgress): void {
    const ended = p.done >= p.total;
    if (this.tty) {
      const now = this.clock(), key = `${p.step}:${p.phase}`;
      if (key === this.lastPhase && !ended && now - this.lastDraw < 1000) return;
      this.lastDraw = now;
      this.lastPhase = key;
      this.draw(`${this.bar(p.step - 1)} step ${p.step}: ${describeProgress(p)}`);
    } else if (ended && p.seconds >= this.quietSeconds) {
      this.out.write(`step ${p.step}: ${describeProgress(p)} in ${formatDuration(p.seconds)}\n`);
    }
  }

  /** A message line that does not garble the bar. */
  log(message: string): void {
    if (this.tty && this.lastBar) this.out.write(`\r\x1b[K${message}\n${this.lastBar}`);
    else this.out.write(`${message}\n`);
  }

  done(): void {
    if (this.tty && this.lastBar) this.out.write("\n");
    this.lastBar = "";
  }

  get startedAt(): number {
    return this.firstStep;
  }
}
