// CloudWatch Logs accepts only a subset of regular expressions between % signs: letters, digits, a few
// symbols and the operators below; no parentheses and no multi-byte characters. A pattern outside the
// subset is rejected here too, so a pattern that works in trailstream also works in CloudWatch Logs.
import { backtrackingRisk } from "../regex-safety.ts";
import { FilterPatternSyntaxError } from "./errors.ts";

const ALLOWED = /[A-Za-z0-9:_#=@/;,\-^$?[\]{}|\\*+.]/;
const EXPECTED =
  "a regular expression of letters, digits, : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \\ * + .";

export function checkRegex(body: string, offset: number): void {
  if (body.length === 0) throw new FilterPatternSyntaxError(offset, "a regular expression between % and %", '"%%"');
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    if (!ALLOWED.test(c)) {
      const what = c === "(" || c === ")" ? `"${c}" (CloudWatch Logs does not support groups)` : `"${c}"`;
      throw new FilterPatternSyntaxError(offset + i, EXPECTED, what);
    }
  }
  try {
    new RegExp(body);
  } catch (error) {
    throw new FilterPatternSyntaxError(offset, "a valid regular expression", `"${body}" (${(error as Error).message})`);
  }
  const risk = backtrackingRisk(body);
  if (risk)
    throw new FilterPatternSyntaxError(
      offset,
      "a regular expression that cannot backtrack for seconds",
      `"${body}" (${risk})`,
    );
}
