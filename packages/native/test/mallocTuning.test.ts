// The addon's glibc malloc settings (native/src/binding/malloc_tuning.cpp): on by default on
// glibc, reported by buildInfo(), and off with RLVR_MALLOC_TUNING=0 (checked in a child
// process, since the settings are applied once when the addon loads).
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { buildInfo } from "../src/index.js";

const glibc = process.platform === "linux" && Boolean((process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
const addonPath = join(dirname(createRequire(import.meta.url).resolve("@rlvr/addon/package.json")), "build", "Release", "rlvr_native.node");
const execFileAsync = promisify(execFile);
// asynchronous, so the worker's event loop stays free while the child loads the addon
const childInfo = async (env: Record<string, string>) =>
  JSON.parse(
    (await execFileAsync(process.execPath, ["-e", `console.log(JSON.stringify(require(${JSON.stringify(addonPath)}).buildInfo().mallocTuning))`], { env: { ...process.env, ...env }, encoding: "utf8" })).stdout,
  ) as ReturnType<typeof buildInfo>["mallocTuning"];

describe.runIf(glibc)("malloc tuning (glibc)", () => {
  it("is applied when the addon loads: heap blocks up to 32 MiB, 512 MiB of freed heap kept", async () => {
    const on = { applied: true, mmapThreshold: 32 * 2 ** 20, trimThreshold: 512 * 2 ** 20 };
    expect(buildInfo().mallocTuning).toEqual(process.env.RLVR_MALLOC_TUNING === "0" ? { applied: false, mmapThreshold: 0, trimThreshold: 0 } : on);
    expect(await childInfo({ RLVR_MALLOC_TUNING: "" })).toEqual(on);
  });
  it("RLVR_MALLOC_TUNING=0 leaves malloc alone", async () => {
    expect(await childInfo({ RLVR_MALLOC_TUNING: "0" })).toEqual({ applied: false, mmapThreshold: 0, trimThreshold: 0 });
    expect((await childInfo({ RLVR_MALLOC_TUNING: "1" })).applied).toBe(true);
  });
});
