// verl-style training rows, read from and written to parquet or JSONL.
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { DataError, jsonlLines, parseJsonLine, writeFileAtomic } from "./files.js";
import { parseParquetRows, type ParquetReadOptions } from "./parquet.js";
import { readRegularFile } from "./readInput.js";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface VerlExtraInfo {
  /** The example's index in its source pool (dsr_sub: 0..1208); selection keys on it. */
  index: number;
  /** "train" or "test"; some sets (math500.parquet) leave it out. */
  split?: string;
  [key: string]: unknown;
}

/** One verl row (spec section 6). */
export interface VerlRow {
  data_source: string;
  /** Chat messages; the user content already ends with the \boxed{} instruction. */
  prompt: ChatMessage[];
  ability: string;
  reward_model: { ground_truth: string; style: string };
  extra_info: VerlExtraInfo;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

/**
 * Checks one parsed row and returns it as a VerlRow (int64 indices become numbers).
 * `where` names the file and row for the error, e.g. "train.parquet row 3".
 */
export function toVerlRow(value: unknown, where: string): VerlRow {
  const fail = (field: string, v: unknown, want: string): never => {
    throw new DataError(`${where}: field "${field}" is ${describe(v)}, expected ${want}`);
  };
  if (!isObj(value)) fail("(row)", value, "an object");
  const row = value as Obj;
  const str = (obj: Obj, key: string, path: string): string => {
    const v = obj[key];
    return typeof v === "string" ? v : fail(path, v, "a string");
  };
  const data_source = str(row, "data_source", "data_source");
  const ability = str(row, "ability", "ability");
  const prompt = row.prompt;
  if (!Array.isArray(prompt) || prompt.length === 0) fail("prompt", prompt, "a non-empty list of chat messages");
  const messages = (prompt as unknown[]).map((m, i) => {
    if (!isObj(m)) return fail(`prompt[${i}]`, m, "a {role, content} object");
    return { role: str(m, "role", `prompt[${i}].role`), content: str(m, "content", `prompt[${i}].content`) };
  });
  const rm = row.reward_model;
  if (!isObj(rm)) fail("reward_model", rm, "an object");
  const reward_model = {
    ground_truth: str(rm as Obj, "ground_truth", "reward_model.ground_truth"),
    style: str(rm as Obj, "style", "reward_model.style"),
  };
  const ei = row.extra_info;
  if (!isObj(ei)) fail("extra_info", ei, "an object");
  const { index: rawIndex, split, ...rest } = ei as Obj;
  const index = typeof rawIndex === "bigint" ? Number(rawIndex) : rawIndex;
  if (typeof index !== "number" || !Number.isSafeInteger(index) || index < 0) fail("extra_info.index", rawIndex, "a non-negative integer");
  if (split !== undefined && split !== null && typeof split !== "string") fail("extra_info.split", split, "a string");
  // Null fields are dropped: parquet stores a field one row lacks as null.
  const extra: Obj = {};
  if (typeof split === "string") extra.split = split;
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) extra[k] = typeof v === "bigint" ? Number(v) : v;
  return { data_source, prompt: messages, ability, reward_model, extra_info: { index: index as number, ...extra } };
}

/**
 * Reads a verl parquet file; errors name the file, the row and the field. The file is parsed
 * in a worker under a time limit (parquet.ts): a damaged file is a DataError, never a hang.
 */
export async function readVerlParquet(path: string, options: ParquetReadOptions = {}): Promise<VerlRow[]> {
  const rows = await parseParquetRows(path, readRegularFile(path), options);
  return rows.map((r, i) => toVerlRow(r, `${path} row ${i}`));
}

/** Reads verl rows stored one JSON object per line; errors name the file, line and field. */
export function readVerlJsonl(path: string): VerlRow[] {
  return jsonlLines(readRegularFile(path, "utf8")).map(({ line, text }) => toVerlRow(parseJsonLine(path, line, text), `${path}:${line}`));
}

/** Reads a .parquet or .jsonl verl dataset by its extension. */
export async function readVerlDataset(path: string, options: ParquetReadOptions = {}): Promise<VerlRow[]> {
  if (path.endsWith(".parquet")) return readVerlParquet(path, options);
  if (path.endsWith(".jsonl")) return readVerlJsonl(path);
  throw new DataError(`${path}: unknown dataset format (expected .parquet or .jsonl)`);
}

/** Writes verl rows as JSONL, atomically. */
export function writeVerlJsonl(path: string, rows: readonly VerlRow[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length > 0 ? "\n" : ""));
}

type SchemaElement = Parameters<typeof parquetWrite>[0]["schema"] extends (infer E)[] | undefined ? E : never;

const STRING = { type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" } as const;

/** The parquet type of an extra_info field beyond index/split, from its values across rows. */
function extraFieldKind(values: unknown[]): "string" | "int" | "double" | "boolean" | "json" {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.every((v) => typeof v === "string")) return "string";
  if (present.every((v) => typeof v === "boolean")) return "boolean";
  if (present.every((v) => typeof v === "number" && Number.isSafeInteger(v))) return "int";
  if (present.every((v) => typeof v === "number")) return "double";
  return "json";
}

/**
 * Encodes verl rows as parquet with the schema of the authors' files (prompt a list of
 * {content, role} structs; reward_model and extra_info structs; extra_info.index int64).
 * Extra extra_info fields are kept: strings, booleans and numbers by type, anything else as
 * a JSON string.
 */
export function verlParquetBuffer(rows: readonly VerlRow[]): ArrayBuffer {
  if (rows.length === 0) throw new DataError("cannot write an empty verl parquet file");
  const extraKeys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.extra_info)) if (k !== "index" && k !== "split" && !extraKeys.includes(k)) extraKeys.push(k);
  const kinds = new Map(extraKeys.map((k) => [k, extraFieldKind(rows.map((r) => r.extra_info[k]))]));
  const extraSchema: SchemaElement[] = extraKeys.map((k) => {
    const kind = kinds.get(k)!;
    if (kind === "int") return { name: k, type: "INT64", repetition_type: "OPTIONAL" };
    if (kind === "double") return { name: k, type: "DOUBLE", repetition_type: "OPTIONAL" };
    if (kind === "boolean") return { name: k, type: "BOOLEAN", repetition_type: "OPTIONAL" };
    return { name: k, ...STRING };
  });
  const schema: SchemaElement[] = [
    { name: "schema", repetition_type: "REQUIRED", num_children: 5 },
    { name: "data_source", ...STRING },
    { name: "prompt", repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
    { name: "list", repetition_type: "REPEATED", num_children: 1 },
    { name: "element", repetition_type: "OPTIONAL", num_children: 2 },
    { name: "content", ...STRING },
    { name: "role", ...STRING },
    { name: "ability", ...STRING },
    { name: "reward_model", repetition_type: "OPTIONAL", num_children: 2 },
    { name: "ground_truth", ...STRING },
    { name: "style", ...STRING },
    { name: "extra_info", repetition_type: "OPTIONAL", num_children: 2 + extraKeys.length },
    { name: "index", type: "INT64", repetition_type: "OPTIONAL" },
    { name: "split", ...STRING },
    ...extraSchema,
  ];
  const extraValue = (k: string, v: unknown): unknown => {
    if (v === undefined || v === null) return null;
    const kind = kinds.get(k)!;
    if (kind === "int") return BigInt(v as number);
    if (kind === "json") return JSON.stringify(v);
    return v;
  };
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema,
    columnData: [
      { name: "data_source", data: rows.map((r) => r.data_source) },
      { name: "prompt", data: rows.map((r) => r.prompt.map((m) => ({ content: m.content, role: m.role }))) },
      { name: "ability", data: rows.map((r) => r.ability) },
      { name: "reward_model", data: rows.map((r) => ({ ground_truth: r.reward_model.ground_truth, style: r.reward_model.style })) },
      {
        name: "extra_info",
        data: rows.map((r) => {
          const out: Obj = { index: BigInt(r.extra_info.index), split: r.extra_info.split ?? null };
          for (const k of extraKeys) out[k] = extraValue(k, r.extra_info[k]);
          return out;
        }),
      },
    ],
  });
  return writer.getBuffer();
}

/** Writes verl rows as parquet, atomically. */
export function writeVerlParquet(path: string, rows: readonly VerlRow[]): void {
  writeFileAtomic(path, new Uint8Array(verlParquetBuffer(rows)));
}

/** Writes verl rows as .parquet or .jsonl by the path's extension. */
export function writeVerlDataset(path: string, rows: readonly VerlRow[]): void {
  if (path.endsWith(".parquet")) writeVerlParquet(path, rows);
  else if (path.endsWith(".jsonl")) writeVerlJsonl(path, rows);
  else throw new DataError(`${path}: unknown dataset format (expected .parquet or .jsonl)`);
}
