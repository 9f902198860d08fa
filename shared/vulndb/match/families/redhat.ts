import type { Family, MatchQuery } from "./family.js";
import { sourceRpmVersion } from "./rpm-source.js";

/** `cpe:/o:redhat:enterprise_linux:9::baseos` → `Red Hat:enterprise_linux:9::baseos` (osv-ecosystems.json, "Red Hat"). */
export function redHatEcosystemOf(cpe: string): string | undefined {
  const m = /^cpe:\/[oa]:redhat:(.+)$/.exec(cpe.trim());
  return m?.[1] === undefined ? undefined : `Red Hat:${m[1]}`;
}

/**
 * Red Hat: records are scoped to product streams by CPE, and name a binary or a source RPM. The
 * image's content sets (`/root/buildinfo/content_manifests/*.json`) map to CPEs through Red Hat's
 * repository-to-cpe.json (https://security.access.redhat.com/data/metrics/repository-to-cpe.json;
 * https://www.redhat.com/en/blog/how-accurately-match-oval-security-data-installed-rpms), and the
 * package is looked up by both names under each CPE. Without CPEs the image cannot be scoped: a
 * coverage gap, never a match against every stream.
 */
export const redHatFamily: Family = {
  name: "os/redhat",
  version: 1,
  ecosystems: ["Red Hat"],
  plan(pkg, context) {
    const ecosystems = [...new Set(context.redHatCpes.map(redHatEcosystemOf).filter((e): e is string => e !== undefined))];
    if (ecosystems.length === 0) {
      const detail =
        context.unmappedContentSets.length > 0
          ? `content sets ${context.unmappedContentSets.join(", ")} have no CPE in this DB (is repository-to-cpe.json a source?)`
          : "the image lists no Red Hat content sets, so its product streams are unknown";
      return { ok: false, gap: { kind: "redhat-unscoped", detail } };
    }
    const queries: MatchQuery[] = [];
    const version = sourceRpmVersion(pkg);
    for (const ecosystem of ecosystems) {
      queries.push({ ecosystem, name: pkg.name, version: pkg.version, via: "package" });
      const source = pkg.source?.name;
      if (source !== undefined && source !== pkg.name) queries.push({ ecosystem, name: source, version, via: "source" });
    }
    return { ok: true, queries };
  }
};
