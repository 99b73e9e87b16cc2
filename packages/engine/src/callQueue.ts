// One engine call at a time, in call order. The addon runs a long call off the JavaScript
// thread and refuses any other call on that engine until it settles; this queue chains the
// calls instead, so callers never see that refusal and results never depend on timing.
import { ValueError, toTypedError } from "@rlvr/native";

export class CallQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  /** Calls queued or running. */
  get pending(): number {
    return this.waiting;
  }

  /**
   * Runs `start` once every earlier call has settled. Whatever it throws (a bad argument, found
   * before any work) or rejects with (the engine failed) rejects the result, as a typed error.
   */
  run<T>(start: () => Promise<T>): Promise<T> {
    this.waiting++;
    const result = this.tail.then(async () => {
      try {
        return await start();
      } catch (e) {
        throw toTypedError(e);
      } finally {
        this.waiting--;
      }
    });
    this.tail = result.catch(() => {}); // a failed call does not stop the ones queued after it
    return result;
  }

  /** Throws unless the engine is idle: a synchronous method must not run between queued calls. */
  assertIdle(method: string): void {
    if (this.waiting > 0) {
      throw new ValueError(
        `engine: busy: ${method}() while ${this.waiting} call(s) are queued or running: await them first`,
        "ERR_RLVR_VALUE",
        "engine",
      );
    }
  }
}
