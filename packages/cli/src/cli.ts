#!/usr/bin/env node
// The rlvr command line: registration only; each command lives in commands/.
import { Command } from "commander";
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

import { doctorCommand } from "./commands/doctor.js";
import { generateCommand } from "./commands/generate.js";
import { scoreCommand } from "./commands/score.js";
import { verifyCommand } from "./commands/verify.js";
import { selectCommand } from "./commands/select.js";
import { reportCommand } from "./commands/report.js";
import { trainCommand } from "./commands/train.js";
import { mathworldCommand } from "./commands/mathworld.js";
import { pretrainCommand } from "./commands/pretrain.js";
import { evalCommand } from "./commands/eval.js";
import { initCommand } from "./commands/init.js";
import { exitCodeFor, throwOnCommanderExit } from "./exitCodes.js";

export function buildProgram(): Command {
  const program = new Command("rlvr")
    .description("Reinforcement learning with verifiable rewards (1-shot RLVR) for language models")
    .version("0.1.0")
    .showHelpAfterError();
  program.addCommand(doctorCommand());
  program.addCommand(generateCommand());
  program.addCommand(scoreCommand());
  program.addCommand(verifyCommand());
  program.addCommand(selectCommand());
  program.addCommand(reportCommand());
  program.addCommand(trainCommand());
  program.addCommand(mathworldCommand());
  program.addCommand(pretrainCommand());
  program.addCommand(evalCommand());
  program.addCommand(initCommand());
  return program;
}

// Resolve symlinks so the check also holds when run through node_modules/.bin/rlvr.
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  throwOnCommanderExit(buildProgram())
    .parseAsync(process.argv)
    .catch((e: unknown) => {
      const { code, printed } = exitCodeFor(e);
      if (!printed) console.error(`rlvr: ${(e as Error).message}`);
      process.exit(code);
    });
}
