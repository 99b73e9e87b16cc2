// Where the shared data (never copied into the repo) lives.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sharedDir } from "@rlvr/verifier/datasets";

/**
 * The shared data folder: RLVR_SHARED_DIR when set, else `shared/` beside the repository
 * root (../shared from /work/main); null when it does not exist. One implementation for the
 * workspace, defined beside the verifier's gold audit and re-exported here.
 */
export { sharedDir };

/** A path under the shared folder, or null when the folder or the path is missing. */
export function sharedPath(...parts: string[]): string | null {
  const root = sharedDir();
  if (root === null) return null;
  const path = join(root, ...parts);
  return existsSync(path) ? path : null;
}

/** Like sharedPath, but throws an error that says how to provide the folder. */
export function requireSharedPath(...parts: string[]): string {
  const path = sharedPath(...parts);
  if (path === null) {
    const root = sharedDir();
    throw new Error(
      root === null
        ? "shared data folder not found: set RLVR_SHARED_DIR or place shared/ beside the repository"
        : `${join(root, ...parts)} not found in the shared data folder`,
    );
  }
  return path;
}
