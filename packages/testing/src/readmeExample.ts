// Runs a package README's ```ts example as a user would: the block is written verbatim (apart from
// the given replacements) into a temporary folder inside the package, so workspace imports resolve
// as they do for a user of the package, and imported. Returns what it printed with console.log.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export interface ReadmeExampleOptions {
  /** Which ```ts block of README.md (0-based; default 0). */
  block?: number;
  /** Exact substrings to replace before running (each must occur, so a README edit cannot silently skip it). */
  replace?: ReadonlyArray<readonly [string, string]>;
}

export function readmeBlock(pkgDir: string, block = 0): string {
  const readme = readFileSync(join(pkgDir, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const code = blocks[block];
  if (code === undefined) throw new Error(`${pkgDir}/README.md has ${blocks.length} \`\`\`ts block(s); block ${block} asked for`);
  return code;
}

/** The output a block promises: its trailing run of `// ...` comment lines, in order. */
export function promisedOutput(block: string): string[] {
  const lines = block.trimEnd().split("\n");
  const out: string[] = [];
  for (let i = lines.length - 1; i >= 0 && lines[i]!.startsWith("// "); i--) out.unshift(lines[i]!.slice(3));
  return out;
}

export async function runReadmeExample(pkgDir: string, opts: ReadmeExampleOptions = {}): Promise<string[]> {
  let code = readmeBlock(pkgDir, opts.block ?? 0);
  for (const [from, to] of opts.replace ?? []) {
    if (!code.includes(from)) throw new Error(`README example no longer contains ${JSON.stringify(from)}: update the test`);
    code = code.split(from).join(to);
  }
  const dir = mkdtempSync(join(pkgDir, ".readme-"));
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" "));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
