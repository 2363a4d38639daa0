// EVENT_SELECTORS (the enricher) and `scan --selectors` read selectors the same way: inline JSON
// when the text starts with `{` or `[`, else the path of a JSON file. The file is read through the
// caller's function, so this package stays free of I/O.
import type { EventSelectors } from "./match.ts";
import { eventSelectors } from "./match.ts";
import { EventSelectorsError } from "./shapes.ts";

export function eventSelectorsFromSetting(setting: string, readFile: (path: string) => string): EventSelectors {
  const text = setting.trim();
  const inline = text.startsWith("{") || text.startsWith("[");
  let json = text;
  if (!inline) {
    try {
      json = readFile(text);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new EventSelectorsError("InvalidEventSelectorsException", [
        `cannot read the selectors file ${text}: ${why}`,
      ]);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    const what = inline ? "the inline selectors" : `the selectors file ${text}`;
    throw new EventSelectorsError("InvalidEventSelectorsException", [`${what} is not JSON: ${why}`]);
  }
  return eventSelectors(value);
}
