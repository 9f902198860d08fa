import { defineAnalyzer, type FileVersion } from "../analyzer.js";
import { classifyDistribution, type OsRelease } from "./distributions.js";

/**
 * `os/release`: the distribution, from `etc/os-release` (preferred) or `usr/lib/os-release`
 * (https://www.freedesktop.org/software/systemd/man/latest/os-release.html: `KEY=value` lines,
 * values optionally in single or double quotes with backslash escapes, `#` comments). Without
 * either file the distribution is unknown, and that is a `distro-unknown` gap.
 *
 * Also reads Red Hat's content manifests (`root/buildinfo/content_manifests/*.json`, written by
 * Red Hat's build system: `{"content_sets": ["rhel-9-for-x86_64-baseos-rpms", …], …}`), whose
 * content sets name the repositories the image's RPMs came from. They are reported as they are,
 * in `contentSetCpes`: the matcher turns each into CPEs through the repository-to-cpe.json map in
 * the vulnerability DB at match time, so a newer map reaches stored SBOMs by a rematch, without
 * reading the image again (an entry that is already a `cpe:/…` is used as it is).
 */

const OS_RELEASE = ["etc/os-release", "usr/lib/os-release"];
const CONTENT_MANIFEST = /^root\/buildinfo\/content_manifests\/[^/]+\.json$/;

type Value = { readonly kind: "os-release"; readonly fields: Readonly<Record<string, string>> } | { readonly kind: "content-sets"; readonly sets: readonly string[] };

/** Parses os-release text; unparseable lines are skipped. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    let value = m[2];
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) {
      value = value.slice(1, -1).replace(/\\(["'`$\\])/g, "$1");
    }
    out[m[1]] = value;
  }
  return out;
}

function toOsRelease(fields: Readonly<Record<string, string>>): OsRelease | undefined {
  const id = fields.ID?.toLowerCase();
  if (id === undefined || id === "") return undefined;
  return {
    id,
    idLike: (fields.ID_LIKE ?? "").split(/\s+/).filter((s) => s !== ""),
    versionId: fields.VERSION_ID === "" ? undefined : fields.VERSION_ID,
    version: fields.VERSION,
    versionCodename: fields.VERSION_CODENAME,
    prettyName: fields.PRETTY_NAME
  };
}

export const osReleaseAnalyzer = defineAnalyzer<Value>({
  name: "os/release",
  version: "1",
  kind: "distribution",
  matches: (path) => OS_RELEASE.includes(path) || CONTENT_MANIFEST.test(path),
  extract({ path, content }) {
    if (CONTENT_MANIFEST.test(path)) {
      const json = JSON.parse(content.toString("utf8")) as unknown;
      const sets = typeof json === "object" && json !== null && "content_sets" in json && Array.isArray(json.content_sets) ? json.content_sets.filter((s): s is string => typeof s === "string") : [];
      return { value: { kind: "content-sets", sets }, warnings: [] };
    }
    const fields = parseOsRelease(content.toString("utf8"));
    if (fields.ID === undefined) return { value: undefined, warnings: [`os/release: ${path} has no ID`] };
    return { value: { kind: "os-release", fields }, warnings: [] };
  },
  combine(files: readonly FileVersion<Value>[], context) {
    const visible = files.filter((f) => f.visible);
    const release = OS_RELEASE.map((p) => visible.find((f) => f.path === p && f.value.kind === "os-release")).find((f) => f !== undefined);
    const contentSetCpes = [...new Set(visible.flatMap((f) => (f.value.kind === "content-sets" ? f.value.sets : [])))].sort();
    const os = release?.value.kind === "os-release" ? toOsRelease(release.value.fields) : undefined;
    if (os === undefined) {
      return { packages: [], warnings: [], contentSetCpes, coverageGaps: [{ kind: "distro-unknown", detail: "no os-release file: the distribution is unknown" }] };
    }
    const { distribution, gaps } = classifyDistribution(os, context.now);
    return { packages: [], warnings: [], contentSetCpes, coverageGaps: gaps, distribution };
  }
});
