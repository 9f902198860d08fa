import type { CoverageGap } from "../../../domain/image-record.js";
import type { InstalledPackage } from "../../../domain/package.js";
import type { OsvAffected } from "../../osv.js";

/**
 * One distribution family's (or language's) rule for turning an installed package into DB lookups
 * (STYLE practice 2: one module per family, one line in `index.ts`). A family only says *what to
 * look up*; the OSV range logic lives once, in `versions/ranges.ts`.
 */
export interface MatchQuery {
  /** The OSV ecosystem string of the records to read (`Debian:12`, `Red Hat:enterprise_linux:9::baseos`). */
  readonly ecosystem: string;
  /** Package name as the records name it (source package for most distributions), not yet normalised. */
  readonly name: string;
  /** The version to test, in that ecosystem's syntax. */
  readonly version: string;
  /** `source` when matched through the source package (Grype's indirect match). */
  readonly via: "package" | "source";
  /** Further narrows the `affected[]` entries (SUSE's `ecosystem_specific.binaries`). */
  readonly accept?: (entry: OsvAffected) => boolean;
}

export interface FamilyContext {
  readonly distribution: string | undefined;
  /** Red Hat CPEs of the image (content sets already mapped), `cpe:/o:redhat:…` form. */
  readonly redHatCpes: readonly string[];
  /** Content sets whose CPEs are unknown (no repository-to-cpe.json in the DB, or not listed there). */
  readonly unmappedContentSets: readonly string[];
}

export type FamilyPlan = { readonly ok: true; readonly queries: readonly MatchQuery[] } | { readonly ok: false; readonly gap: CoverageGap };

export interface Family {
  readonly name: string;
  /** Bumped when the rule changes, so stored matches made by an older rule can be found. */
  readonly version: number;
  /** Base OSV ecosystem names (before the first `:`) this family handles. */
  readonly ecosystems: readonly string[];
  plan(pkg: InstalledPackage & { readonly ecosystem: string }, context: FamilyContext): FamilyPlan;
}

/** The part of an ecosystem string before the first `:`. */
export function releaseOf(ecosystem: string): string | undefined {
  const colon = ecosystem.indexOf(":");
  return colon < 0 ? undefined : ecosystem.slice(colon + 1);
}
