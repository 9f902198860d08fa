import type { SbomFacts } from "../../shared/domain/match.js";
import { readOwnSbom } from "../../shared/sbom/own-form.js";

/**
 * The facts of a stored SBOM as a rematch reads them (shared/vulndb/rematch.ts), which must be in
 * scanhook's own form: a stored SBOM the own-form reader does not recognize fails the test.
 */
export function storedSbomFacts(text: string | Buffer | undefined): SbomFacts {
  const read = readOwnSbom(typeof text === "string" ? text : (text?.toString("utf8") ?? ""));
  if (read === undefined) throw new Error("the stored SBOM is not in scanhook's own form");
  if (!read.ok) throw new Error(read.reason);
  return read.facts;
}
