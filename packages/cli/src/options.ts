// Commander argument parsers shared by the commands: each rejects bad values
// with a message commander prints next to the option's name.
import { InvalidArgumentError, Option, type Command } from "commander";

/** An integer >= min. */
export const intOption = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

/** A number in [lo, hi], or in (lo, hi] with openLow. */
export const numberOption = (lo: number, hi: number, openLow = false) => (v: string): number => {
  const n = Number(v);
  if (!((openLow ? n > lo : n >= lo) && n <= hi)) throw new InvalidArgumentError(`expected a number in ${openLow ? "(" : "["}${lo}, ${hi}]`);
  return n;
};

/** The engine backends a command can run on (@rlvr/engine EngineBackend). */
export const ENGINE_BACKENDS = ["cpu", "ops-cpu", "cuda"] as const;
export type EngineBackendName = (typeof ENGINE_BACKENDS)[number];

export const backendOption = (v: string): EngineBackendName => {
  if (!(ENGINE_BACKENDS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${ENGINE_BACKENDS.join(", ")}`);
  return v as EngineBackendName;
};

/** --backend / --device / --bf16-gemm on a command that loads an engine. */
export function withEngineOptions<C extends Command>(cmd: C): C {
  return cmd
    .option("--backend <name>", `engine: ${ENGINE_BACKENDS.join(" | ")} (ops-cpu and cuda run the OpsModel; cuda needs a GPU)`, backendOption, "cpu")
    .option("--device <n>", "CUDA device ordinal (--backend cuda)", intOption(0))
    .option("--bf16-gemm", "bf16 GEMM operands (--backend ops-cpu or cuda)") as C;
}

export interface EngineCliOptions {
  backend?: EngineBackendName;
  device?: number;
  bf16Gemm?: boolean;
}

/** @rlvr/engine EngineOptions from the parsed --backend / --device / --bf16-gemm. */
export function engineOptions(o: EngineCliOptions): { backend: EngineBackendName; device?: number; bf16Gemm?: boolean } {
  return {
    backend: o.backend ?? "cpu",
    ...(o.device !== undefined ? { device: o.device } : {}),
    ...(o.bf16Gemm ? { bf16Gemm: true } : {}),
  };
}

/**
 * An option under its one name (the config key's: --max-new-tokens for eval.maxNewTokens,
 * --timeout-ms for reward.timeoutMs) with its old spelling still accepted, hidden from --help.
 */
export function withRenamedOption<C extends Command>(
  cmd: C, flags: { name: string; old: string; arg: string; attribute: string }, description: string, parse: (v: string) => unknown, def?: unknown,
): C {
  cmd.addOption(new Option(`--${flags.name} <${flags.arg}>`, description).argParser((v) => parse(v)).default(def));
  cmd.addOption(new Option(`--${flags.old} <${flags.arg}>`, `old name of --${flags.name}`).hideHelp().argParser((v) => parse(v)));
  cmd.on(`option:${flags.old}`, (v: string) => cmd.setOptionValueWithSource(flags.attribute, parse(v), "cli"));
  return cmd;
}

/** --max-new-tokens (eval.maxNewTokens, Hugging Face's max_new_tokens); --max-tokens still works. */
export const withMaxNewTokens = <C extends Command>(cmd: C, description: string, def: number): C =>
  withRenamedOption(cmd, { name: "max-new-tokens", old: "max-tokens", arg: "m", attribute: "maxNewTokens" }, description, intOption(1), def);
