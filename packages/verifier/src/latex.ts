// Small LaTeX scanning helpers shared by extraction and normalization.

/** Index just past the group that opens at `open` (a "{"), or -1 when unbalanced. Escaped braces do not count. */
export function matchBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * Replaces every `\name{arg}` (brace-matched) with `render(arg)`. Commands whose group is
 * unbalanced are left as they are.
 */
export function replaceCommand(text: string, name: string, render: (arg: string) => string): string {
  const needle = `\\${name}`;
  let out = "";
  let from = 0;
  for (;;) {
    const at = text.indexOf(needle, from);
    if (at < 0) break;
    const after = at + needle.length;
    // "\text" must not match "\textbf"
    if (/[a-zA-Z]/.test(text[after] ?? "")) {
      out += text.slice(from, after);
      from = after;
      continue;
    }
    let open = after;
    while (text[open] === " ") open++;
    if (text[open] !== "{") {
      out += text.slice(from, after);
      from = after;
      continue;
    }
    const end = matchBrace(text, open);
    if (end < 0) break;
    out += text.slice(from, at) + render(text.slice(open + 1, end - 1));
    from = end;
  }
  return out + text.slice(from);
}

const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/**
 * Splits on `separator` characters that sit outside every (), [], {} and \{ \} group.
 * Returns the pieces trimmed. Mismatched brackets (as in "[0,1)") still count as a group.
 */
export function splitTopLevel(text: string, separators: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\") {
      const next = text[i + 1];
      if (next === "{" || next === "[" || next === "(") depth++;
      else if (next === "}" || next === "]" || next === ")") depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (c in OPENERS) depth++;
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
    else if (depth === 0 && separators.includes(c)) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/** Deepest nesting of (), [], {} in the text. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const c of text) {
    if (c === "(" || c === "[" || c === "{") max = Math.max(max, ++depth);
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
  }
  return max;
}
