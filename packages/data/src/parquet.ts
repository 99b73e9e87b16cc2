// Parses parquet in a worker thread under a time and memory limit. hyparquet trusts the file:
// a damaged one can spin forever (a corrupt snappy page), throw from a promise nobody awaits
// (which ends the process), or report an internal error such as
// "column.field_3.field_8?.map is not a function". In a worker all of these become one
// DataError that names the file and says it is not a parquet file this reader can read.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { DataError } from "./files.js";

export interface ParquetReadOptions {
  /** Wall-clock limit of the parse, ms (default: 60 s + 1 s per MB). */
  timeoutMs?: number;
}

// The worker is a script given as text (no separate file to build): it loads hyparquet from
// the URL resolved here, parses the bytes it is handed and posts the rows back, or the first
// error, including one from a promise hyparquet left unawaited.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
let done = false;
const fail = (e) => { if (!done) { done = true; parentPort.postMessage({ error: String(e && e.message ? e.message : e) }); } };
process.on("unhandledRejection", fail);
process.on("uncaughtException", fail);
import(workerData.hyparquet)
  .then(({ parquetReadObjects }) => parquetReadObjects({ file: workerData.bytes }))
  .then((rows) => { if (!done) { done = true; parentPort.postMessage({ rows }); } }, fail);
`;

let hyparquetUrl: string | undefined;

function hyparquet(): string {
  hyparquetUrl ??= pathToFileURL(createRequire(import.meta.url).resolve("hyparquet")).href;
  return hyparquetUrl;
}

const PARQUET_MAGIC = "PAR1";

function invalid(path: string, why: string): DataError {
  return new DataError(
    `${path}: not a valid parquet file, or one this reader does not support (${why}); ` +
      `re-export the dataset as .parquet or .jsonl`,
  );
}

/** The rows of a parquet file as plain objects (int64 as bigint); DataError naming `path` on any failure. */
export async function parseParquetRows(path: string, bytes: Uint8Array, options: ParquetReadOptions = {}): Promise<unknown[]> {
  // The format starts and ends with "PAR1"; anything else is refused before a worker starts.
  const magic = (at: number) => Buffer.from(bytes.buffer, bytes.byteOffset + at, 4).toString("latin1");
  if (bytes.length < 12 || magic(0) !== PARQUET_MAGIC || magic(bytes.length - 4) !== PARQUET_MAGIC) {
    throw invalid(path, bytes.length < 12 ? `${bytes.length} bytes` : `no "PAR1" marker at its start and end`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000 + Math.ceil(bytes.length / 1_000);
  const copy = new Uint8Array(bytes).buffer; // a copy of just these bytes (a Buffer may be a view of a shared pool), transferred
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { hyparquet: hyparquet(), bytes: copy },
    transferList: [copy],
    // a damaged header can ask for huge arrays; a legitimate file needs a few times its size
    resourceLimits: { maxOldGenerationSizeMb: Math.max(1024, Math.ceil((16 * bytes.length) / 2 ** 20)) },
  });
  try {
    return await new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(invalid(path, `parsing did not finish within ${timeoutMs} ms`)), timeoutMs);
      const settle = (f: () => void) => {
        clearTimeout(timer);
        f();
      };
      worker.on("message", (m: { rows?: unknown[]; error?: string }) =>
        settle(() => (m.rows ? resolve(m.rows) : reject(invalid(path, m.error ?? "unknown error")))),
      );
      worker.on("error", (e) => settle(() => reject(invalid(path, e.message))));
      worker.on("exit", (code) => settle(() => reject(invalid(path, `the reader stopped (exit code ${code})`))));
    });
  } finally {
    worker.removeAllListeners();
    worker.on("error", () => {}); // late errors of a worker being terminated
    await worker.terminate();
  }
}
