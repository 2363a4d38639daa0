// Value matching as the Sigma specification defines it: plain strings compare case-insensitively
// and as a whole, with `*` (any run) and `?` (one character) wildcards; a backslash escapes `*`, `?`
// and itself, and is literal before anything else.

export type StringTest = (text: string) => boolean;

interface GlobPart {
  literal: string;
  wildcard?: "*" | "?";
}

function parseGlob(pattern: string): GlobPart[] {
  const parts: GlobPart[] = [];
  let literal = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === "*" || next === "?" || next === "\\") {
        literal += next;
        i++;
      } else literal += c;
    } else if (c === "*" || c === "?") {
      parts.push({ literal, wildcard: c });
      literal = "";
    } else literal += c;
  }
  parts.push({ literal });
  return parts;
}

/** True when the value has an unescaped wildcard. */
export function hasWildcard(pattern: string): boolean {
  return parseGlob(pattern).some((p) => p.wildcard !== undefined);
}

/** The value with its escapes resolved, for values without wildcards. */
export function unescapeGlob(pattern: string): string {
  return parseGlob(pattern)
    .map((p) => p.literal)
    .join("");
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

export function globTest(pattern: string, caseSensitive: boolean): StringTest {
  const parts = parseGlob(pattern);
  const wild = parts.filter((p) => p.wildcard !== undefined);
  const norm = caseSensitive ? (s: string) => s : (s: string) => s.toLowerCase();
  if (wild.length === 0) {
    const lit = norm(parts[0]?.literal ?? "");
    return (t) => norm(t) === lit;
  }
  // The common shapes (contains, startswith, endswith) avoid a regular expression.
  if (wild.every((p) => p.wildcard === "*")) {
    const lits = parts.map((p) => norm(p.literal));
    if (lits.length === 2 && lits[1] === "") {
      const head = lits[0] ?? "";
      return (t) => norm(t).startsWith(head);
    }
    if (lits.length === 2 && lits[0] === "") {
      const tail = lits[1] ?? "";
      return (t) => norm(t).endsWith(tail);
    }
    if (lits.length === 3 && lits[0] === "" && lits[2] === "") {
      const mid = lits[1] ?? "";
      return (t) => norm(t).includes(mid);
    }
  }
  let source = "^";
  for (const p of parts) {
    source += escapeRegex(p.literal);
    if (p.wildcard === "*") source += "[\\s\\S]*";
    else if (p.wildcard === "?") source += "[\\s\\S]";
  }
  const re = new RegExp(`${source}$`, caseSensitive ? "" : "i");
  return (t) => re.test(t);
}

/** Escapes a literal so it can be embedded in a glob (contains/startswith/endswith wrap values). */
export function escapeGlob(literal: string): string {
  return literal.replace(/[\\*?]/g, "\\$&");
}
