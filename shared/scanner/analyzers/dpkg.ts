import type { InstalledPackage } from "../../domain/package.js";
import { defineAnalyzer, layerOfEntries, type FileVersion } from "../analyzer.js";
import { purl, stanzas } from "./purl.js";

/**
 * `os/dpkg`: Debian and Ubuntu packages from dpkg's database (deb-control(5) stanzas;
 * https://www.debian.org/doc/debian-policy/ch-controlfields.html): `var/lib/dpkg/status`, and the
 * one-file-per-package `var/lib/dpkg/status.d/*` of distroless images. `Source: name (version)`
 * gives the source package and, when it differs from the binary's (binNMUs, epochs), its version.
 * Owned files come from `var/lib/dpkg/info/<package>[:<arch>].list`.
 *
 * A package counts as present unless its `Status` says `not-installed` or `config-files` (what
 * `dpkg-query -W` lists). A stanza without `Package` or `Version` is a warning and is skipped.
 * Empty input gives no packages.
 */

interface DpkgEntry {
  readonly name: string;
  readonly version: string;
  readonly arch: string | undefined;
  readonly sourceName: string | undefined;
  readonly sourceVersion: string | undefined;
}

type Value = { readonly kind: "status"; readonly packages: readonly DpkgEntry[] } | { readonly kind: "list"; readonly package: string; readonly files: readonly string[] };

const STATUS = "var/lib/dpkg/status";
const STATUS_D = /^var\/lib\/dpkg\/status\.d\/[^/]+$/;
const LIST = /^var\/lib\/dpkg\/info\/([^/]+)\.list$/;
const ABSENT = new Set(["not-installed", "config-files"]);

/** Parses a dpkg status file (or one status.d file). */
export function parseDpkgStatus(text: string, path: string): { packages: DpkgEntry[]; warnings: string[] } {
  const packages: DpkgEntry[] = [];
  const warnings: string[] = [];
  for (const stanza of stanzas(text)) {
    const fields = new Map<string, string>();
    for (const line of stanza.lines) {
      if (line.startsWith(" ") || line.startsWith("\t")) continue; // continuation of a multi-line field
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
    }
    const name = fields.get("package");
    const version = fields.get("version");
    if (name === undefined || name === "" || version === undefined || version === "") {
      warnings.push(`os/dpkg: ${path}:${stanza.line}: a stanza without Package or Version: skipped`);
      continue;
    }
    const status = fields.get("status")?.split(/\s+/)[2];
    if (status !== undefined && ABSENT.has(status)) continue;
    const source = fields.get("source");
    const m = source === undefined ? null : /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(source);
    if (source !== undefined && m === null) warnings.push(`os/dpkg: ${path}:${stanza.line}: unparseable Source ${JSON.stringify(source.slice(0, 100))}`);
    packages.push({
      name,
      version,
      arch: fields.get("architecture"),
      sourceName: m?.[1],
      sourceVersion: m?.[2]?.trim()
    });
  }
  return { packages, warnings };
}

export const dpkgAnalyzer = defineAnalyzer<Value>({
  name: "os/dpkg",
  version: "1",
  kind: "packages",
  matches: (path) => path === STATUS || (STATUS_D.test(path) && !path.endsWith(".md5sums")) || LIST.test(path),
  extract({ path, content }) {
    const list = LIST.exec(path);
    if (list?.[1] !== undefined) {
      const files = content
        .toString("utf8")
        .split("\n")
        .filter((l) => l.startsWith("/") && l !== "/.")
        .map((l) => l.slice(1));
      return { value: { kind: "list", package: list[1].split(":")[0] ?? list[1], files }, warnings: [] };
    }
    const parsed = parseDpkgStatus(content.toString("utf8"), path);
    return { value: { kind: "status", packages: parsed.packages }, warnings: parsed.warnings };
  },
  combine(files: readonly FileVersion<Value>[], { distribution }) {
    const statusVersions = files.filter((f): f is FileVersion<Extract<Value, { kind: "status" }>> => f.value.kind === "status");
    const layers = layerOfEntries(statusVersions, (v) => v.packages.map((p) => [`${p.name}:${p.arch ?? ""}`, `${p.version} ${p.sourceName ?? ""} ${p.sourceVersion ?? ""}`] as const));
    const owned = new Map<string, string[]>();
    for (const f of files) if (f.visible && f.value.kind === "list") owned.set(f.value.package, [...(owned.get(f.value.package) ?? []), ...f.value.files]);
    const namespace = distribution !== undefined && ["debian", "ubuntu"].includes(distribution.id) ? distribution.id : "debian";
    const seen = new Set<string>();
    const packages: InstalledPackage[] = [];
    for (const v of statusVersions) {
      if (!v.visible) continue;
      for (const p of v.value.packages) {
        const key = `${p.name}:${p.arch ?? ""}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const layer = layers.get(key);
        const ownedFiles = owned.get(p.name);
        packages.push({
          name: p.name,
          version: p.version,
          purl: purl("deb", namespace, p.name, p.version, { arch: p.arch, distro: distribution?.purlDistro }),
          ecosystem: distribution?.ecosystem,
          source: { name: p.sourceName ?? p.name, version: p.sourceVersion ?? p.version },
          ...(layer === undefined ? {} : { layer }),
          analyzer: "os/dpkg",
          ...(p.arch === undefined ? {} : { arch: p.arch }),
          ...(ownedFiles === undefined ? {} : { files: ownedFiles })
        });
      }
    }
    return { packages, warnings: [] };
  }
});
