import type { OsvAffected } from "../../osv.js";
import type { Family } from "./family.js";
import { sourceRpmVersion } from "./rpm-source.js";

/**
 * Binary names an entry lists in `ecosystem_specific.binaries`. SUSE's records write it as a list
 * of objects keyed by binary name (`[{"kernel-default": "5.14.21-…"}]`); a plain list of names is
 * read too. Undefined when the entry lists none.
 */
export function binariesOf(entry: OsvAffected): ReadonlySet<string> | undefined {
  const list = entry.ecosystem_specific?.binaries;
  if (!Array.isArray(list)) return undefined;
  const names = new Set<string>();
  for (const item of list) {
    if (typeof item === "string") names.add(item);
    else if (typeof item === "object" && item !== null) for (const key of Object.keys(item)) names.add(key);
  }
  return names;
}

/**
 * SUSE and openSUSE: the ecosystem's release is `/etc/os-release` `PRETTY_NAME`
 * (`SUSE:SUSE Linux Enterprise Server 15 SP5`), the record names the source RPM, and
 * `ecosystem_specific.binaries` lists the binaries built from it in that product
 * (osv-ecosystems.json): a binary the entry does not list is not affected by it.
 */
export const suseFamily: Family = {
  name: "os/suse",
  version: 1,
  ecosystems: ["SUSE", "openSUSE"],
  plan(pkg) {
    const binary = pkg.name;
    return {
      ok: true,
      queries: [
        {
          ecosystem: pkg.ecosystem,
          name: pkg.source?.name ?? pkg.name,
          version: sourceRpmVersion(pkg),
          via: pkg.source?.name === undefined ? "package" : "source",
          accept: (entry) => binariesOf(entry)?.has(binary) ?? true
        }
      ]
    };
  }
};
