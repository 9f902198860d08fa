import type { CoverageGap, Finding } from "./image-record.js";
import type { InstalledPackage } from "./package.js";

/**
 * The seam between the indexer and the matcher (Clair's "index once, match often"): the indexer
 * produces the facts of an SBOM, the matcher turns them into findings against the DB as it is now.
 * A stored SBOM read back gives the same facts, so a rematch never reads the image.
 */
export interface SbomFacts {
  /** The distribution's OSV ecosystem with release (`Debian:12`), undefined when unknown. */
  readonly distribution: string | undefined;
  /**
   * Red Hat content sets, where the image lists them: repository ids as the indexer finds them
   * (`rhel-9-for-x86_64-baseos-rpms`), which the matcher maps to CPEs through the DB, or CPEs.
   */
  readonly contentSetCpes: readonly string[];
  readonly packages: readonly InstalledPackage[];
  /** Gaps the indexer already knows of (unknown or end-of-life distribution, unreadable files). */
  readonly coverageGaps: readonly CoverageGap[];
}

export interface MatchOutcome {
  /** The compact findings index for the record (DESIGN principle 3). */
  readonly findings: readonly Finding[];
  /** The indexer's gaps plus the matcher's (ecosystem without data, unparseable versions …). */
  readonly coverageGaps: readonly CoverageGap[];
  readonly dbVersion: string;
  readonly matchedAt: string;
}

export interface Matcher {
  /** Version of the DB this matcher answers from. */
  readonly dbVersion: string;
  match(facts: SbomFacts, now: Date): MatchOutcome;
}

/** What a result says before any DB exists: nothing matched, and that is a gap, not "clean". */
export const NO_DB_VERSION = "none";
export const NO_DB_GAP: CoverageGap = { kind: "no-vulnerability-db", detail: "no vulnerability database is loaded yet; the SBOM will be matched when one is" };
