export type { Pattern } from "./ast.ts";
export { compileFilterPattern, type Matcher, patternConstraints } from "./compile.ts";
export { FilterPatternSyntaxError } from "./errors.ts";
export { parseFilterPattern } from "./parser.ts";

import { toIndexKeys } from "../index-keys.ts";
import type { IndexKeys } from "../types.ts";
import { patternConstraints } from "./compile.ts";
import { parseFilterPattern } from "./parser.ts";

export function patternIndexKeys(pattern: string): IndexKeys {
  return toIndexKeys(patternConstraints(parseFilterPattern(pattern)));
}
