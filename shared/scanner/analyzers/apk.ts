import type { InstalledPackage } from "../../domain/package.js";
import { defineAnalyzer, layerOfEntries, type FileVersion } from "../analyzer.js";
import { purl, stanzas } from "./purl.js";

/**
 * `os/apk`: Alpine (and Wolfi, Chainguard) packages from `lib/apk/db/installed`
 * (https://wiki.alpinelinux.org/wiki/Apk_spec, "Installed Database"): one stanza per package of
 * `<letter>:<value>` lines — `P` name, `V` version, `A` arch, `o` origin (the source package),
 * `F` a directory and the `R` files in it that the package owns. A stanza without `P` or `V` is a
 * warning and is skipped. Empty input gives no packages.
 */

interface ApkEntry {
  readonly name: string;
  readonly version: string;
  readonly arch: string | undefined;
  readonly origin: string | undefined;
  readonly files: readonly string[];
}

const INSTALLED = "lib/apk/db/installed";

export function parseApkInstalled(text: string): { packages: ApkEntry[]; warnings: string[] } {
  const packages: ApkEntry[] = [];
  const warnings: string[] = [];
  for (const stanza of stanzas(text)) {
    let name: string | undefined;
    let version: string | undefined;
    let arch: string | undefined;
    let origin: string | undefined;
    let dir = "";
    const files: string[] = [];
    for (const line of stanza.lines) {
      if (line.length < 2 || line[1] !== ":") continue;
      const value = line.slice(2);
      switch (line[0]) {
        case "P":
          name = value;
          break;
        case "V":
          version = value;
          break;
        case "A":
          arch = value;
          break;
        case "o":
          origin = value;
          break;
        case "F":
          dir = value;
          break;
        case "R":
          files.push(dir === "" ? value : `${dir}/${value}`);
          break;
        default:
          break;
      }
    }
    if (name === undefined || name === "" || version === undefined || version === "") {
      warnings.push(`os/apk: ${INSTALLED}:${stanza.line}: a stanza without P or V: skipped`);
      continue;
    }
    packages.push({ name, version, arch, origin, files });
  }
  return { packages, warnings };
}

export const apkAnalyzer = defineAnalyzer<{ readonly packages: readonly ApkEntry[] }>({
  name: "os/apk",
  version: "1",
  kind: "packages",
  matches: (path) => path === INSTALLED,
  extract({ content }) {
    const parsed = parseApkInstalled(content.toString("utf8"));
    return { value: { packages: parsed.packages }, warnings: parsed.warnings };
  },
  combine(files: readonly FileVersion<{ readonly packages: readonly ApkEntry[] }>[], { distribution }) {
    const layers = layerOfEntries(files, (v) => v.packages.map((p) => [p.name, `${p.version} ${p.arch ?? ""} ${p.origin ?? ""}`] as const));
    const namespace = distribution?.id ?? "alpine";
    const packages: InstalledPackage[] = [];
    for (const f of files) {
      if (!f.visible) continue;
      for (const p of f.value.packages) {
        const layer = layers.get(p.name);
        packages.push({
          name: p.name,
          version: p.version,
          purl: purl("apk", namespace, p.name, p.version, { arch: p.arch, distro: distribution?.purlDistro }),
          ecosystem: distribution?.ecosystem,
          source: { name: p.origin ?? p.name, version: p.version },
          ...(layer === undefined ? {} : { layer }),
          analyzer: "os/apk",
          ...(p.arch === undefined ? {} : { arch: p.arch }),
          files: p.files
        });
      }
    }
    return { packages, warnings: [] };
  }
});
