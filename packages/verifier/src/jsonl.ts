// The logic of `rlvr verify --input cases.jsonl`: each input line is a JSON object with at
// least `response` and `gold`; each output line repeats it and adds correct, extracted and
// reason. Lines are verified in chunks so a large file never sits in memory at once.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { VerifierPool } from "./pool.js";
import type { VerifyOptions } from "./verify.js";

export interface JsonlSummary {
  total: number;
  correct: number;
  /** Lines that were not a JSON object with string `response` and `gold`. */
  invalid: number;
  timeouts: number;
}

const CHUNK = 2_000;

type Row = Record<string, unknown>;

function parseLine(line: string): { row: Row } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { error: `invalid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "line is not a JSON object" };
  const row = value as Row;
  // Numeric golds (amc23 stores 27.0) are read as their text.
  if (typeof row.gold === "number") row.gold = String(row.gold);
  if (typeof row.response !== "string") return { error: "missing string field `response`" };
  if (typeof row.gold !== "string") return { error: "missing string field `gold`" };
  // An empty gold can never be matched: a silent 0 would hide broken data.
  if (row.gold.trim() === "") return { error: "empty field `gold`: no answer can match it (fill it in or drop the line)" };
  return { row };
}

export async function verifyJsonl(
  input: Readable,
  write: (line: string) => void | Promise<void>,
  pool: VerifierPool,
  options: VerifyOptions = {},
): Promise<JsonlSummary> {
  const summary: JsonlSummary = { total: 0, correct: 0, invalid: 0, timeouts: 0 };
  let chunk: { lineNo: number; parsed: ReturnType<typeof parseLine> }[] = [];
  let lineNo = 0;

  const flush = async () => {
    const results = await Promise.all(
      chunk.map(({ parsed }) => ("row" in parsed ? pool.verify(parsed.row.response as string, parsed.row.gold as string, options) : null)),
    );
    for (let i = 0; i < chunk.length; i++) {
      const { lineNo: n, parsed } = chunk[i]!;
      const result = results[i];
      summary.total++;
      if (!("row" in parsed) || !result) {
        summary.invalid++;
        await write(JSON.stringify({ line: n, correct: false, extracted: null, reason: "invalid-input", error: "error" in parsed ? parsed.error : "" }));
        continue;
      }
      if (result.correct) summary.correct++;
      if (result.reason === "timeout") summary.timeouts++;
      await write(JSON.stringify({ ...parsed.row, correct: result.correct, extracted: result.extracted, reason: result.reason }));
    }
    chunk = [];
  };

  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    if (line.trim() === "") continue;
    chunk.push({ lineNo, parsed: parseLine(line) });
    if (chunk.length >= CHUNK) await flush();
  }
  await flush();
  return summary;
}
