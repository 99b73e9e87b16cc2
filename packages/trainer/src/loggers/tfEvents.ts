// TensorBoard event files (events.out.tfevents.*): TFRecord framing around tensorflow.Event
// messages, encoded with protobufjs from the few fields TensorBoard reads (event.proto,
// summary.proto, tensor.proto): scalars as simple_value, text as a string tensor tagged for the
// text plugin, and a SessionLog START when a run resumes, so TensorBoard drops the steps of the
// interrupted attempt that come after the checkpoint.
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import protobuf from "protobufjs";

import { maskedCrc32c } from "./crc32c.js";

const { Field, Root, Type } = protobuf;

/** DataType.DT_STRING of tensorflow/core/framework/types.proto. */
const DT_STRING = 7;
/** SessionLog.SessionStatus.START. */
const SESSION_START = 1;

const root = new Root().add(
  new Type("PluginData").add(new Field("plugin_name", 1, "string")).add(new Field("content", 2, "bytes")),
).add(
  new Type("SummaryMetadata").add(new Field("plugin_data", 1, "PluginData")).add(new Field("display_name", 2, "string")),
).add(new Type("TensorShapeProto")).add(
  new Type("TensorProto").add(new Field("dtype", 1, "int32")).add(new Field("tensor_shape", 2, "TensorShapeProto"))
    .add(new Field("string_val", 8, "bytes", "repeated")),
).add(
  new Type("Value").add(new Field("tag", 1, "string")).add(new Field("simple_value", 2, "float"))
    .add(new Field("tensor", 8, "TensorProto")).add(new Field("metadata", 9, "SummaryMetadata")),
).add(new Type("Summary").add(new Field("value", 1, "Value", "repeated"))).add(
  new Type("SessionLog").add(new Field("status", 1, "int32")).add(new Field("msg", 3, "string")),
).add(
  new Type("Event").add(new Field("wall_time", 1, "double")).add(new Field("step", 2, "int64"))
    .add(new Field("file_version", 3, "string")).add(new Field("summary", 5, "Summary")).add(new Field("session_log", 7, "SessionLog")),
);
const Event = root.lookupType("Event");

/** The protobuf Event type, for readers (the tests decode what was written). */
export const EventType = Event;

/** One TFRecord: length (u64 LE), masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

export interface ScalarValue {
  tag: string;
  value: number;
}

/** Appends events to one new event file under `dir`; every call writes through (no buffering to lose). */
export class TensorBoardWriter {
  readonly path: string;
  #fd: number | null;

  constructor(dir: string, options: { resumeStep?: number } = {}) {
    mkdirSync(dir, { recursive: true });
    const now = Date.now();
    this.path = join(dir, `events.out.tfevents.${Math.floor(now / 1000)}.${hostname()}.${process.pid}.${now % 1000}`);
    this.#fd = openSync(this.path, "wx");
    this.#write({ wall_time: now / 1000, file_version: "brain.Event:2" });
    if (options.resumeStep !== undefined) {
      this.#write({ wall_time: now / 1000, step: options.resumeStep, session_log: { status: SESSION_START, msg: `resumed at step ${options.resumeStep}` } });
    }
  }

  /** Scalars of one step (non-finite values are skipped: TensorBoard cannot chart them). */
  scalars(step: number, values: readonly ScalarValue[], wallTime = Date.now() / 1000): void {
    const value = values.filter((v) => Number.isFinite(v.value)).map((v) => ({ tag: v.tag, simple_value: v.value }));
    if (value.length > 0) this.#write({ wall_time: wallTime, step, summary: { value } });
  }

  /** A text summary (markdown), shown by TensorBoard's Text tab. */
  text(step: number, tag: string, markdown: string, wallTime = Date.now() / 1000): void {
    this.#write({
      wall_time: wallTime, step,
      summary: {
        value: [{
          tag,
          metadata: { plugin_data: { plugin_name: "text" } },
          tensor: { dtype: DT_STRING, tensor_shape: {}, string_val: [Buffer.from(markdown, "utf8")] },
        }],
      },
    });
  }

  /** Makes what was written durable (called at checkpoints and at the end). */
  flush(): void {
    if (this.#fd !== null) fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd === null) return;
    this.flush();
    closeSync(this.#fd);
    this.#fd = null;
  }

  #write(event: Record<string, unknown>): void {
    if (this.#fd === null) throw new Error(`${this.path}: the TensorBoard writer is closed`);
    const err = Event.verify(event);
    if (err) throw new Error(`TensorBoard event: ${err}`);
    writeSync(this.#fd, tfRecord(Event.encode(Event.create(event)).finish()));
  }
}
