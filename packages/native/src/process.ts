import { callNative } from "./errors.js";
import { loadAddon } from "./load.js";

/**
 * Ends the process at once with `code`, even while a native engine call runs on libuv's thread
 * pool (process.exit() waits for it: it joins the pool first). The process's "exit" listeners
 * run first (Node requires them to be synchronous: e.g. the trainer's run-folder lock release);
 * nothing else is cleaned up. process.stderr / stdout writes to files, pipes and terminals are
 * synchronous on POSIX, so what was written is out.
 */
export function exitNow(code: number): never {
  process.exitCode = code;
  process.emit("exit", code);
  return callNative(() => loadAddon().exitNow(code));
}
