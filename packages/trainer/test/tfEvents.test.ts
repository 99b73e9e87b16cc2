// TensorBoard event files read back without protobufjs: the TFRecord framing and its CRCs, and the
// Event fields decoded by a small protobuf wire-format reader written here, so a mistake in the
// writer's message definitions cannot hide behind the same definitions in the reader.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

import { crc32c, maskedCrc32c } from "../src/loggers/crc32c.js";
import { TensorBoardWriter } from "../src/loggers/tfEvents.js";

const dir = mkdtempSync(join(tmpdir(), "rlvr-tb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Fields = Map<number, (bigint | Buffer | number)[]>;

/** Decodes one protobuf message into field number -> raw values (varint: bigint, fixed64/32: Buffer, bytes: Buffer). */
function decode(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = () => {
    let x = 0n, shift = 0n;
    for (;;) {
      const b = buf[i++]!;
      x |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return x;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3, wire = key & 7;
    let v: bigint | Buffer;
    if (wire === 0) v = varint();
    else if (wire === 1) { v = buf.subarray(i, i + 8); i += 8; }
    else if (wire === 5) { v = buf.subarray(i, i + 4); i += 4; }
    else if (wire === 2) { const n = Number(varint()); v = buf.subarray(i, i + n); i += n; }
    else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
}

/** The records of a TFRecord file, each CRC checked. */
function records(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < file.length) {
    const len = Number(file.readBigUInt64LE(i));
    expect(file.readUInt32LE(i + 8), `length CRC of record ${out.length}`).toBe(maskedCrc32c(file.subarray(i, i + 8)));
    const data = file.subarray(i + 12, i + 12 + len);
    expect(file.readUInt32LE(i + 12 + len), `data CRC of record ${out.length}`).toBe(maskedCrc32c(data));
    out.push(data);
    i += 12 + len + 4;
  }
  expect(i).toBe(file.length);
  return out;
}

describe("TensorBoard event files", () => {
  it("CRC-32C matches the standard check value", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // 32 zero bytes (RFC 3720 B.4)
  });

  it("writes a file-version event, scalars, text and a resume marker that read back field by field", () => {
    const w = new TensorBoardWriter(join(dir, "tb"), { resumeStep: 4 });
    w.scalars(5, [{ tag: "critic/score/mean", value: 0.25 }, { tag: "actor/entropy", value: 1.5 }, { tag: "nan", value: Number.NaN }], 1700000000.5);
    w.text(5, "rollouts/sample", "**prompt** 2+3\n\nresponse \\boxed{5}", 1700000001);
    w.close();
    const files = readdirSync(join(dir, "tb"));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\./);
    const events = records(readFileSync(join(dir, "tb", files[0]!))).map(decode);
    expect(events).toHaveLength(4);

    expect((events[0]!.get(3)![0] as Buffer).toString()).toBe("brain.Event:2");
    // session_log (7): status START (1) at step 4
    expect(events[1]!.get(2)).toEqual([4n]);
    expect(decode(events[1]!.get(7)![0] as Buffer).get(1)).toEqual([1n]);

    const scalars = events[2]!;
    expect((scalars.get(1)![0] as Buffer).readDoubleLE(0)).toBe(1700000000.5);
    expect(scalars.get(2)).toEqual([5n]);
    const values = decode(scalars.get(5)![0] as Buffer).get(1)!.map((v) => decode(v as Buffer));
    expect(values.map((v) => (v.get(1)![0] as Buffer).toString())).toEqual(["critic/score/mean", "actor/entropy"]); // NaN left out
    expect(values.map((v) => (v.get(2)![0] as Buffer).readFloatLE(0))).toEqual([0.25, 1.5]);

    const text = decode(decode(events[3]!.get(5)![0] as Buffer).get(1)![0] as Buffer);
    expect((text.get(1)![0] as Buffer).toString()).toBe("rollouts/sample");
    const plugin = decode(decode(text.get(9)![0] as Buffer).get(1)![0] as Buffer);
    expect((plugin.get(1)![0] as Buffer).toString()).toBe("text");
    const tensor = decode(text.get(8)![0] as Buffer);
    expect(tensor.get(1)).toEqual([7n]); // DT_STRING
    expect((tensor.get(8)![0] as Buffer).toString()).toBe("**prompt** 2+3\n\nresponse \\boxed{5}");
  });

  it("refuses to write after close, naming the file", () => {
    const w = new TensorBoardWriter(join(dir, "tb2"));
    w.close();
    expect(() => w.scalars(1, [{ tag: "x", value: 1 }])).toThrow(/tfevents.*closed/);
  });
});
