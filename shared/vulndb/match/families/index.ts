import { apkFamily } from "./apk.js";
import { dpkgFamily } from "./dpkg.js";
import type { Family } from "./family.js";
import { goFamily } from "./go.js";
import { languageFamily } from "./language.js";
import { redHatFamily } from "./redhat.js";
import { rpmSourceFamily } from "./rpm-source.js";
import { suseFamily } from "./suse.js";

export type { Family, FamilyContext, FamilyPlan, MatchQuery } from "./family.js";

/** Every family, once; an ecosystem claimed twice fails at load. Unlisted ecosystems use {@link languageFamily}. */
export const FAMILIES: readonly Family[] = [dpkgFamily, apkFamily, rpmSourceFamily, suseFamily, redHatFamily, goFamily];

export function buildFamilyTable(families: readonly Family[]): ReadonlyMap<string, Family> {
  const table = new Map<string, Family>();
  const names = new Set<string>();
  for (const f of families) {
    if (names.has(f.name)) throw new Error(`match family ${f.name} listed twice`);
    names.add(f.name);
    for (const e of f.ecosystems) {
      const other = table.get(e);
      if (other !== undefined) throw new Error(`ecosystem ${e} claimed by ${other.name} and ${f.name}`);
      table.set(e, f);
    }
  }
  return table;
}

const TABLE = buildFamilyTable(FAMILIES);

export function familyFor(baseEcosystem: string): Family {
  return TABLE.get(baseEcosystem) ?? languageFamily;
}

/** `family@version` of every family, for the matcher's version. */
export const FAMILY_VERSIONS: readonly string[] = [...FAMILIES, languageFamily].map((f) => `${f.name}@${f.version}`);
