// Worker entry: verifies one task at a time for the pool. Loading verify.js loads the
// compute engine, so "ready" is only posted once the worker can answer at full speed.
import { parentPort } from "node:worker_threads";
import { verifySync } from "./verify.js";
import type { TaskMessage, ResultMessage } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("worker.js must be started by VerifierPool, not run directly");

port.on("message", (task: TaskMessage) => {
  let message: ResultMessage;
  try {
    message = { id: task.id, result: verifySync(task.response, task.gold, task.options) };
  } catch (err) {
    message = { id: task.id, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(message);
});
port.postMessage({ ready: true });
