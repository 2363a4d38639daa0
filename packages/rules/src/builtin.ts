import { join } from "node:path";
import { cisCatalog } from "./catalog/cis.ts";
import type { CorrelationRule } from "./correlation/types.ts";
import { type LoadFailure, loadSigmaRules } from "./sigma/load.ts";
import type { Rule } from "./types.ts";

/** The SigmaHQ CloudTrail rules shipped with this package (see sigma/NOTICE.md). */
export const BUILTIN_SIGMA_DIR = join(import.meta.dirname, "..", "sigma");

/** The CIS catalog followed by the Sigma rules (shipped ones unless sigmaDir says otherwise) and any correlations among them. */
export async function builtinRules(
  options: { sigmaDir?: string } = {},
): Promise<{ rules: Rule[]; correlations: CorrelationRule[]; failures: LoadFailure[] }> {
  const sigma = await loadSigmaRules(options.sigmaDir ?? BUILTIN_SIGMA_DIR);
  return { rules: [...cisCatalog(), ...sigma.rules], correlations: sigma.correlations, failures: sigma.failures };
}
