import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import type { Addon } from "./addonTypes.js";
import { NativeLoadError } from "./errors.js";

let cached: Addon | undefined;

/** Candidate addon paths: RLVR_ADDON_PATH, then the workspace build of @rlvr/addon. */
function candidates(): string[] {
  const out: string[] = [];
  if (process.env.RLVR_ADDON_PATH) out.push(process.env.RLVR_ADDON_PATH);
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve("@rlvr/addon/package.json");
    out.push(join(dirname(pkg), "build", "Release", "rlvr_native.node"));
  } catch {
    // not resolvable: fall through to the error listing what was tried
  }
  return out;
}

/** Loads the native addon once; throws NativeLoadError with each failure and the fix. */
export function loadAddon(): Addon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidates()) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      cached = require(path) as Addon;
      return cached;
    } catch (e) {
      failures.push(`${path}: ${(e as Error).message}`);
    }
  }
  throw new NativeLoadError(
    [
      "rlvr's native addon could not be loaded.",
      ...failures.map((f) => `  - ${f}`),
      "Possible fixes:",
      "  - build it: pnpm build (or pnpm --filter @rlvr/addon build); needs cmake and a C++17 compiler",
      "  - point RLVR_ADDON_PATH at a built rlvr_native.node",
    ].join("\n"),
  );
}
