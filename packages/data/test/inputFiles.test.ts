// Issue #17 items 11 and 14: data files the user names. A FIFO (reading it blocked forever)
// or a directory is refused naming the path; a damaged parquet is a DataError naming the file
// and saying it is not a valid parquet, never a hang, a crash or an internal message alone.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { DataError, readAccuracyHistory, readMetrics, readVerlDataset, readVerlParquet, writeVerlParquet } from "../src/index.js";
import { row, tempDir } from "./helpers.js";

const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(() => expect.unreachable("no error") as never, (e: Error) => e);
}

describe("paths that are not regular files", () => {
  it.each(["train.jsonl", "train.parquet"])("a FIFO named %s is refused at once, naming the path", async (name) => {
    const path = join(tempDir(), name);
    await promisify(execFile)("mkfifo", [path]);
    const err = await rejection(readVerlDataset(path));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toBe(`${path}: is a FIFO (named pipe), not a regular file; give the path of a data file`);
  });

  it("a directory and a missing file name the path", async () => {
    const dir = join(tempDir(), "data.jsonl");
    mkdirSync(dir);
    expect((await rejection(readVerlDataset(dir))).message).toBe(`${dir}: is a directory, not a regular file; give the path of a data file`);
    const missing = join(tempDir(), "none.parquet");
    expect((await rejection(readVerlDataset(missing))).message).toBe(`${missing}: file not found`);
  });

  it("accuracy histories and metrics files are checked the same way", async () => {
    const dir = tempDir();
    const fifo = join(dir, "acc_step_500.json");
    await promisify(execFile)("mkfifo", [fifo]);
    expect(() => readAccuracyHistory(fifo)).toThrow(/acc_step_500\.json: is a FIFO \(named pipe\)/);
    expect(() => readMetrics(dir)).toThrow(/is a directory, not a regular file/);
  });
});

describe("damaged parquet files", () => {
  const message = (path: string) => new RegExp(`^${path.replace(/[.\\/]/g, "\\$&")}: not a valid parquet file, or one this reader does not support \\(.*\\); re-export the dataset as \\.parquet or \\.jsonl$`);

  it("an internal reader error is reported as an invalid parquet, naming the file", async () => {
    const path = fixture("damaged-footer.parquet");
    const err = await rejection(readVerlParquet(path));
    expect(err).toBeInstanceOf(DataError);
    expect(err.message).toMatch(message(path));
  });

  it("an error the reader throws from an unawaited promise does not end the process", async () => {
    // in-process this was an uncaught exception: vitest would report it and fail the run
    const path = fixture("damaged-uncaught.parquet");
    expect((await rejection(readVerlParquet(path))).message).toMatch(message(path));
  });

  it("a file the reader spins on is stopped at the time limit", async () => {
    const path = fixture("damaged-hang.parquet");
    const err = await rejection(readVerlParquet(path, { timeoutMs: 1_000 }));
    expect(err.message).toMatch(message(path));
    expect(err.message).toContain("parsing did not finish within 1000 ms");
  }, 30_000);

  it("a file without the PAR1 markers is refused before parsing", async () => {
    const path = join(tempDir(), "x.parquet");
    writeFileSync(path, "PAR1 and then something else entirely");
    expect((await rejection(readVerlParquet(path))).message).toMatch(/x\.parquet: not a valid parquet file.*\(no "PAR1" marker at its start and end\)/);
  });

  it("seeded damage of a good file: every outcome is the rows or a DataError naming the file", async () => {
    const dir = tempDir();
    const good = join(dir, "good.parquet");
    writeVerlParquet(good, [row(1), row(2), row(3)]);
    const bytes = readFileSync(good);
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const outcomes = new Set<string>();
    for (let k = 0; k < 8; k++) {
      const damaged = Buffer.from(bytes);
      for (let j = 0; j < 3; j++) damaged[next() % damaged.length] = next() & 255;
      const path = join(dir, `d${k}.parquet`);
      writeFileSync(path, damaged);
      try {
        await readVerlParquet(path, { timeoutMs: 3_000 });
        outcomes.add("rows");
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        expect((e as Error).message.startsWith(`${path}`)).toBe(true);
        outcomes.add("error");
      }
    }
    expect(outcomes.has("error")).toBe(true);
    // and the good file still reads
    expect((await readVerlDataset(good)).map((r) => r.extra_info.index)).toEqual([1, 2, 3]);
  }, 120_000);
});
