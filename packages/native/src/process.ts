import { callNative } from "./errors.js";
import { loadAddon } from "./load.js";

/**
 * Ends the process at once with `code`, even while a native engine call runs on libuv's thread
 * pool (process.exit() waits for it: it joins the pool first). No exit handlers run and nothing is
 * flushed: write what must be said before calling it (process.stderr writes are synchronous).
 */
export function exitNow(code: number): never {
  return callNative(() => loadAddon().exitNow(code));
}
