// SIGINT / SIGTERM for long commands: the first one asks the work to stop where it can keep what
// it did (rlvr train: after the current step), through an AbortSignal whose reason is the
// signal's name; a second one exits at once with the signal's conventional code (128 + its
// number: 130, 143). The engine's calls run off the JavaScript thread, so both are handled while
// a forward/backward is in flight; "at once" is exitNow, since process.exit would first wait for
// that call to finish.
import { exitNow } from "@rlvr/native";

export const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT;

export interface StopSignals {
  signal: AbortSignal;
  /** Removes the handlers. */
  dispose(): void;
}

export function installStopSignals(o: {
  /** Told about the first signal (e.g. to print what happens next). */
  onFirst: (sig: StopSignal) => void;
  /** Told about the second one, just before exiting. */
  onSecond?: (sig: StopSignal) => void;
  /** Defaults to exitNow (@rlvr/native). */
  exit?: (code: number) => void;
  /** Where the signals come from (default process; tests pass an EventEmitter). */
  source?: Pick<NodeJS.EventEmitter, "on" | "off">;
}): StopSignals {
  const source = o.source ?? process;
  const abort = new AbortController();
  const exit = o.exit ?? exitNow;
  const handler = (sig: StopSignal) => () => {
    if (abort.signal.aborted) {
      o.onSecond?.(sig);
      exit(SIGNAL_EXIT[sig]);
      return;
    }
    abort.abort(sig);
    o.onFirst(sig);
  };
  const onInt = handler("SIGINT"), onTerm = handler("SIGTERM");
  source.on("SIGINT", onInt);
  source.on("SIGTERM", onTerm);
  return {
    signal: abort.signal,
    dispose: () => {
      source.off("SIGINT", onInt);
      source.off("SIGTERM", onTerm);
    },
  };
}
