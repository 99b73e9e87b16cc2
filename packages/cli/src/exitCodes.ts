// Exit codes of every rlvr command: 0 success, 1 a failure, 2 a usage error (a bad option,
// argument or config key: fix the command line), 3 a training run that diverged, 130 / 143 a run
// stopped by SIGINT / SIGTERM (with a checkpoint). `rlvr train` sets 3, 130 and 143 itself.
import { CommanderError, type Command } from "commander";

import { ConfigError } from "@rlvr/trainer";

export const EXIT = { ok: 0, failure: 1, usage: 2, diverged: 3, sigint: 130, sigterm: 143 } as const;

let commanderPrinted = false;

/** Makes commander throw instead of exiting, on the program and every subcommand, and notes when it printed an error. */
export function throwOnCommanderExit(cmd: Command): Command {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (text, write) => {
      commanderPrinted = true;
      write(text);
    },
  });
  for (const sub of cmd.commands) throwOnCommanderExit(sub);
  return cmd;
}

/** The exit code for an error that reached the top level, and whether its message was already printed. */
export function exitCodeFor(e: unknown): { code: number; printed: boolean } {
  if (e instanceof CommanderError) {
    // help and --version end with code 0. Commander printed its own usage errors; an
    // InvalidArgumentError thrown by a command's action was not printed yet.
    return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage, printed: commanderPrinted || e.exitCode === 0 };
  }
  // a config key that is unknown, mistyped or out of range; a config file that cannot be read is a failure
  if (e instanceof ConfigError && e.key !== undefined) return { code: EXIT.usage, printed: false };
  return { code: EXIT.failure, printed: false };
}
