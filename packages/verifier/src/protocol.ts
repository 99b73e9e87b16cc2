// Messages between VerifierPool and its workers.
import type { VerifyOptions, VerifyResult } from "./verify.js";

export interface TaskMessage {
  id: number;
  response: string;
  gold: string;
  options: VerifyOptions;
}

export type ResultMessage = { id: number; result: VerifyResult } | { id: number; error: string };

export type WorkerMessage = ResultMessage | { ready: true };
