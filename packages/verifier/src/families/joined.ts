// Several answers joined by words: "4 or -1", "x = 1 and x = 2", "1, 2, or 3". After
// normalization the words sit between non-letters ("4or-1") or before a spaced letter
// ("x=1or x=2"). Only top-level words count, and only when no part is itself text
// ("yes or no" stays a phrase).
const WORD = /^(?:or|and)(?![a-zA-Z])/;

/** The answer with its joining words at the top level replaced by commas; null when there are none. */
export function joinWordsToCommas(s: string): string | null {
  let out = "";
  let depth = 0;
  let found = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      const name = /^\\(?:[a-zA-Z]+|[\s\S])?/.exec(s.slice(i))![0];
      if (name === "\\{") depth++;
      else if (name === "\\}") depth = Math.max(0, depth - 1);
      out += name;
      i += name.length - 1;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth = Math.max(0, depth - 1);
    const prev = s[i - 1] ?? "";
    const word = depth === 0 && i > 0 && !/[a-zA-Z]/.test(prev) ? WORD.exec(s.slice(i)) : null;
    if (word) {
      found = true;
      out += ",";
      i += word[0].length - 1;
      if (s[i + 1] === " ") i++;
      continue;
    }
    out += c;
  }
  if (!found) return null;
  const parts = out.split(",").map((p) => p.trim());
  const kept = parts.filter((p) => p.length > 0);
  // "1,or2" leaves an empty part; a leading or trailing word ("or 2") is not a join
  if (parts[0] === "" || parts.at(-1) === "" || kept.length < 2) return null;
  return kept.join(",");
}
