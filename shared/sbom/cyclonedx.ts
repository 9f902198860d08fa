/**
 * From a CycloneDX JSON SBOM (https://cyclonedx.org/docs/1.5/json/) to the matcher's SbomFacts.
 *
 * scanhook's own SBOM (DESIGN principle 10) carries every fact as a `scanhook:` property
 * (`shared/domain/package.ts` SBOM_PROPERTIES): ecosystem, source package and version, layer,
 * distribution, content sets. Any other tool's SBOM is matched with what it carries — the purl's
 * type, namespace and `distro`, `upstream` and `epoch` qualifiers (purl-spec's types and syft's
 * use of `upstream`) — and what it lacks is a coverage gap on the result: components with no purl
 * or no version, OS packages with no distribution or no source package, no layer information.
 *
 * Bounded: nested `components` are read to {@link MAX_DEPTH} levels and {@link MAX_COMPONENTS}
 * in all; beyond that the rest is a coverage gap, not an error.
 */
import { z } from "zod";
import { isDigest, type Digest } from "../domain/digest.js";
import type { CoverageGap } from "../domain/image-record.js";
import type { SbomFacts } from "../domain/match.js";
import { SBOM_PROPERTIES, type InstalledPackage } from "../domain/package.js";
import { parsePurl, type Purl } from "./purl.js";

const MAX_DEPTH = 32;
export const MAX_COMPONENTS = 1_000_000;

interface RawProperty {
  name: string;
  value?: string | undefined;
}
interface RawComponent {
  type?: string | undefined;
  name?: string | undefined;
  version?: string | undefined;
  purl?: string | undefined;
  properties?: RawProperty[] | undefined;
  components?: RawComponent[] | undefined;
}
interface RawBom {
  bomFormat: "CycloneDX";
  specVersion: string;
  metadata?: { properties?: RawProperty[] | undefined; component?: RawComponent | undefined } | undefined;
  components?: RawComponent[] | undefined;
}

/**
 * The part of CycloneDX 1.5 the reader relies on, as a schema: the specification of what
 * {@link checkBom} accepts (a property test holds the two equal, first failing path included).
 */
const PropertySchema = z.object({ name: z.string(), value: z.string().optional() });
const ComponentSchema: z.ZodType<RawComponent> = z.lazy(() =>
  z.object({
    type: z.string().optional(),
    name: z.string().optional(),
    version: z.string().optional(),
    purl: z.string().optional(),
    properties: z.array(PropertySchema).optional(),
    components: z.array(ComponentSchema).optional()
  })
);
export const BomSchema: z.ZodType<RawBom> = z.object({
  bomFormat: z.literal("CycloneDX"),
  specVersion: z.string(),
  metadata: z.object({ properties: z.array(PropertySchema).optional(), component: ComponentSchema.optional() }).optional(),
  components: z.array(ComponentSchema).optional()
});

export type BomCheck = { readonly ok: true; readonly bom: RawBom } | { readonly ok: false; readonly path: readonly (string | number)[]; readonly message: string };

const STRING_FIELDS = ["type", "name", "version", "purl"] as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Accepts exactly what {@link BomSchema} accepts, checked in place: the SBOM is re-matched for
 * every stored image whenever the DB changes, and a schema parse copied every component and
 * property of it (as many objects again as `JSON.parse` made) only for the reader to walk them
 * once more. Depth-first in the schema's key order, so the first problem reported is the one
 * the schema reports first; an explicit stack, so no nesting depth overflows the call stack.
 */
export function checkBom(json: unknown): BomCheck {
  // Each task knows its parent, not its whole path: a path is built only for the problem found.
  interface Task {
    readonly kind: "component" | "properties" | "components";
    readonly value: unknown;
    readonly key: string | number;
    readonly parent: Task | undefined;
  }
  const pathOf = (task: Task | undefined, ...rest: (string | number)[]): (string | number)[] => {
    const path = rest;
    for (let t = task; t !== undefined; t = t.parent) path.unshift(t.key);
    return path;
  };
  const fail = (path: (string | number)[], message: string): BomCheck => ({ ok: false, path, message });
  if (!isObject(json)) return fail([], `expected object, received ${kindOf(json)}`);
  if (json.bomFormat !== "CycloneDX") return fail(["bomFormat"], 'expected "CycloneDX"');
  if (typeof json.specVersion !== "string") return fail(["specVersion"], `expected string, received ${kindOf(json.specVersion)}`);
  const stack: Task[] = [];
  if (json.components !== undefined) stack.push({ kind: "components", value: json.components, key: "components", parent: undefined });
  if (json.metadata !== undefined) {
    const m = json.metadata;
    if (!isObject(m)) return fail(["metadata"], `expected object, received ${kindOf(m)}`);
    const metadata: Task = { kind: "component", value: m, key: "metadata", parent: undefined };
    if (m.component !== undefined) stack.push({ kind: "component", value: m.component, key: "component", parent: metadata });
    if (m.properties !== undefined) stack.push({ kind: "properties", value: m.properties, key: "properties", parent: metadata });
  }
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const { value } = task;
    if (task.kind === "properties") {
      if (!Array.isArray(value)) return fail(pathOf(task), `expected array, received ${kindOf(value)}`);
      for (let i = 0; i < value.length; i++) {
        const p: unknown = value[i];
        if (!isObject(p)) return fail(pathOf(task, i), `expected object, received ${kindOf(p)}`);
        if (typeof p.name !== "string") return fail(pathOf(task, i, "name"), `expected string, received ${kindOf(p.name)}`);
        if (p.value !== undefined && typeof p.value !== "string") return fail(pathOf(task, i, "value"), `expected string, received ${kindOf(p.value)}`);
      }
    } else if (task.kind === "components") {
      if (!Array.isArray(value)) return fail(pathOf(task), `expected array, received ${kindOf(value)}`);
      for (let i = value.length - 1; i >= 0; i--) stack.push({ kind: "component", value: value[i] as unknown, key: i, parent: task });
    } else {
      if (!isObject(value)) return fail(pathOf(task), `expected object, received ${kindOf(value)}`);
      for (const field of STRING_FIELDS) {
        const v = value[field];
        if (v !== undefined && typeof v !== "string") return fail(pathOf(task, field), `expected string, received ${kindOf(v)}`);
      }
      if (value.components !== undefined) stack.push({ kind: "components", value: value.components, key: "components", parent: task });
      if (value.properties !== undefined) stack.push({ kind: "properties", value: value.properties, key: "properties", parent: task });
    }
  }
  return { ok: true, bom: json as unknown as RawBom };
}

export type SbomRead = { readonly ok: true; readonly facts: SbomFacts; readonly foreign: boolean } | { readonly ok: false; readonly reason: string };

function prop(list: RawComponent["properties"], name: string): string | undefined {
  const v = list?.find((p) => p.name === name)?.value;
  return v === undefined || v === "" ? undefined : v;
}

interface ComponentProps {
  analyzer: string | undefined;
  ecosystem: string | undefined;
  sourceName: string | undefined;
  sourceVersion: string | undefined;
  layer: string | undefined;
}

/**
 * A component's scanhook properties in one pass (as `prop` would find each: the first of a name,
 * empty as absent). A rematch reads them for every package of every stored SBOM.
 */
function componentProps(list: RawComponent["properties"]): ComponentProps {
  const found: Partial<Record<keyof ComponentProps, string>> = {};
  for (const p of list ?? []) {
    const n = p.name;
    const key: keyof ComponentProps | undefined =
      n === SBOM_PROPERTIES.analyzer
        ? "analyzer"
        : n === SBOM_PROPERTIES.ecosystem
          ? "ecosystem"
          : n === SBOM_PROPERTIES.sourceName
            ? "sourceName"
            : n === SBOM_PROPERTIES.sourceVersion
              ? "sourceVersion"
              : n === SBOM_PROPERTIES.layer
                ? "layer"
                : undefined;
    if (key !== undefined && !(key in found)) found[key] = p.value ?? "";
  }
  const value = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);
  return { analyzer: value(found.analyzer), ecosystem: value(found.ecosystem), sourceName: value(found.sourceName), sourceVersion: value(found.sourceVersion), layer: value(found.layer) };
}

/** `debian-12`, `debian-12.5`, `bookworm` (Debian's codenames), `ubuntu-22.04` … → OSV ecosystem with release. */
const DEBIAN_CODENAMES: Readonly<Record<string, string>> = { stretch: "9", buster: "10", bullseye: "11", bookworm: "12", trixie: "13" };

function distroEcosystem(purl: Purl): string | undefined {
  const ns = purl.namespace?.toLowerCase();
  const distro = purl.qualifiers.get("distro")?.toLowerCase();
  if (purl.type === "deb") {
    if (distro === undefined) return undefined;
    const code = DEBIAN_CODENAMES[distro];
    if (ns === "debian" && code !== undefined) return `Debian:${code}`;
    const d = /^debian-(\d+)/.exec(distro);
    if (d?.[1] !== undefined) return `Debian:${d[1]}`;
    const u = /^ubuntu-(\d{2})\.(\d{2})/.exec(distro);
    if (u?.[1] !== undefined && u[2] !== undefined) return `Ubuntu:${u[1]}.${u[2]}${u[2] === "04" && Number(u[1]) % 2 === 0 ? ":LTS" : ""}`;
    return undefined;
  }
  if (purl.type === "apk") {
    if (ns === "wolfi") return "Wolfi";
    if (ns === "chainguard") return "Chainguard";
    const a = distro === undefined ? null : /^alpine-(\d+\.\d+)/.exec(distro);
    return a?.[1] === undefined ? undefined : `Alpine:v${a[1]}`;
  }
  if (purl.type === "rpm") {
    if (ns === "redhat") return "Red Hat";
    const m = distro === undefined ? null : /^([a-z]+)-(\d+)/.exec(distro);
    const names: Readonly<Record<string, string>> = { rocky: "Rocky Linux", almalinux: "AlmaLinux", azurelinux: "Azure Linux" };
    const eco = m?.[1] === undefined ? undefined : names[m[1]];
    return eco === undefined || m?.[2] === undefined ? undefined : `${eco}:${m[2]}`;
  }
  return undefined;
}

/** Language purl types → OSV ecosystem and the name as OSV spells it. */
function languagePackage(purl: Purl): { ecosystem: string; name: string } | undefined {
  const ns = purl.namespace;
  switch (purl.type) {
    case "npm":
      return { ecosystem: "npm", name: ns === undefined ? purl.name : `${ns}/${purl.name}` };
    case "pypi":
      return { ecosystem: "PyPI", name: purl.name };
    case "maven":
      return ns === undefined ? undefined : { ecosystem: "Maven", name: `${ns}:${purl.name}` };
    case "golang":
      return { ecosystem: "Go", name: ns === undefined ? purl.name : `${ns}/${purl.name}` };
    case "gem":
      return { ecosystem: "RubyGems", name: purl.name };
    case "nuget":
      return { ecosystem: "NuGet", name: purl.name };
    case "composer":
      return { ecosystem: "Packagist", name: ns === undefined ? purl.name : `${ns}/${purl.name}` };
    case "cargo":
      return { ecosystem: "crates.io", name: purl.name };
    case "hex":
      return { ecosystem: "Hex", name: purl.name };
    case "pub":
      return { ecosystem: "Pub", name: purl.name };
    default:
      return undefined;
  }
}

/** syft's `upstream` qualifier: `util-linux`, `util-linux@2.38.1-5`, or for rpm `openssl-3.0.7-24.el9.src.rpm`. */
function upstreamOf(purl: Purl): { name: string; version?: string } | undefined {
  const up = purl.qualifiers.get("upstream");
  if (up === undefined) return undefined;
  if (purl.type === "rpm" && up.endsWith(".src.rpm")) {
    const m = /^(.+)-([^-]+)-([^-]+)\.src\.rpm$/.exec(up);
    return m?.[1] === undefined ? { name: up } : { name: m[1], version: `${m[2]}-${m[3]}` };
  }
  const at = up.indexOf("@");
  return at < 0 ? { name: up } : { name: up.slice(0, at), version: up.slice(at + 1) };
}

const OS_TYPES = new Set(["deb", "apk", "rpm"]);
/** Component types that can be installed packages. */
const PACKAGE_TYPES: ReadonlySet<string> = new Set(["library", "application", "framework", "operating-system", "container", "firmware"]);

export function readSbomFacts(json: unknown): SbomRead {
  const checked = checkBom(json);
  if (!checked.ok) return { ok: false, reason: `not a CycloneDX JSON SBOM: ${checked.path.join(".") || "document"}: ${checked.message}` };
  const bom = checked.bom;
  const meta = bom.metadata?.properties;
  const contentSets = (meta ?? []).filter((p) => p.name === SBOM_PROPERTIES.contentSetCpe && p.value !== undefined && p.value !== "").map((p) => p.value as string);
  let distribution = prop(meta, SBOM_PROPERTIES.distribution);
  const packages: InstalledPackage[] = [];
  const counts = { noPurl: 0, noVersion: 0, noSource: 0, noDistro: 0, overflow: 0, foreign: 0, os: 0 };
  const examples = { noPurl: [] as string[], noVersion: [] as string[] };
  const note = (list: string[], what: string): void => {
    if (list.length < 3) list.push(what);
  };

  const visit = (c: RawComponent, depth: number): void => {
    if (packages.length + counts.noPurl + counts.noVersion >= MAX_COMPONENTS) {
      counts.overflow++;
      return;
    }
    if (c.type === undefined || PACKAGE_TYPES.has(c.type)) read(c);
    if (depth < MAX_DEPTH) for (const child of c.components ?? []) visit(child, depth + 1);
    else if ((c.components ?? []).length > 0) counts.overflow += (c.components ?? []).length;
  };

  let lastLayerText: string | undefined;
  let lastLayer: Digest | undefined;
  const read = (c: RawComponent): void => {
    const label = c.name ?? "(unnamed)";
    if (c.type === "operating-system") return;
    const props = componentProps(c.properties);
    const analyzer = props.analyzer;
    const layerValue = props.layer;
    // Components of one layer name it alike: checked once per run of equal values, not per component.
    if (layerValue !== lastLayerText) {
      lastLayerText = layerValue;
      lastLayer = layerValue !== undefined && isDigest(layerValue) ? layerValue : undefined;
    }
    const layer = lastLayer;
    if (analyzer !== undefined && c.name !== undefined && c.version !== undefined) {
      // scanhook's own component: its properties are the facts.
      const sourceName = props.sourceName;
      const sourceVersion = props.sourceVersion;
      // Assigned, not spread in conditionally: this runs for every package of every rematch.
      const pkg: Mutable<InstalledPackage> = { name: c.name, version: c.version, purl: c.purl ?? "", ecosystem: props.ecosystem, analyzer };
      if (sourceName !== undefined) pkg.source = sourceVersion === undefined ? { name: sourceName } : { name: sourceName, version: sourceVersion };
      if (layer !== undefined) pkg.layer = layer;
      packages.push(pkg);
      return;
    }
    counts.foreign++;
    const purl = c.purl === undefined ? undefined : parsePurl(c.purl);
    if (purl === undefined) {
      counts.noPurl++;
      note(examples.noPurl, label);
      return;
    }
    const version = purl.version ?? c.version;
    if (version === undefined || version === "") {
      counts.noVersion++;
      note(examples.noVersion, `${label}`);
      return;
    }
    if (OS_TYPES.has(purl.type)) {
      counts.os++;
      const ecosystem = distroEcosystem(purl);
      if (ecosystem === undefined) counts.noDistro++;
      else distribution ??= ecosystem;
      const upstream = upstreamOf(purl);
      if (upstream === undefined) counts.noSource++;
      const epoch = purl.qualifiers.get("epoch");
      const full = purl.type === "rpm" && epoch !== undefined && epoch !== "0" && !version.includes(":") ? `${epoch}:${version}` : version;
      packages.push({
        name: purl.name,
        version: full,
        purl: c.purl ?? "",
        ecosystem,
        ...(upstream === undefined ? {} : { source: upstream }),
        ...(layer === undefined ? {} : { layer }),
        analyzer: `sbom/${purl.type}`
      });
      return;
    }
    const lang = languagePackage(purl);
    packages.push({
      name: lang?.name ?? purl.name,
      version,
      purl: c.purl ?? "",
      // A purl type OSV has no ecosystem for: the matcher reports it as `ecosystem-unknown`.
      ecosystem: lang?.ecosystem,
      ...(layer === undefined ? {} : { layer }),
      analyzer: `sbom/${purl.type}`
    });
  };

  for (const c of bom.components ?? []) visit(c, 0);

  const gaps: CoverageGap[] = [];
  if (counts.foreign > 0) {
    if (counts.noPurl > 0) gaps.push({ kind: "sbom-component-unidentified", detail: `${counts.noPurl} components have no package URL and cannot be matched, e.g. ${examples.noPurl.join(", ")}`, count: counts.noPurl });
    if (counts.noVersion > 0) gaps.push({ kind: "sbom-component-no-version", detail: `${counts.noVersion} components have no version and cannot be matched, e.g. ${examples.noVersion.join(", ")}`, count: counts.noVersion });
    if (counts.noDistro > 0) gaps.push({ kind: "distro-unknown", detail: `${counts.noDistro} OS packages carry no distribution (purl distro qualifier) the matcher can scope them to`, count: counts.noDistro });
    if (counts.noSource > 0) gaps.push({ kind: "sbom-no-source-package", detail: `${counts.noSource} OS packages do not name their source package; they are matched by binary name, which advisories naming the source miss`, count: counts.noSource });
    if (counts.os === 0 && distribution === undefined) {
      gaps.push({ kind: "sbom-no-os-packages", detail: "the SBOM lists no OS packages and no distribution: the operating system, if any, was not assessed" });
    }
    if (!packages.some((p) => p.layer !== undefined)) gaps.push({ kind: "sbom-no-layers", detail: "the SBOM does not say which layer introduced each package" });
  }
  if (counts.overflow > 0) gaps.push({ kind: "sbom-truncated", detail: `${counts.overflow} components beyond the reader's limits (${MAX_COMPONENTS} components, ${MAX_DEPTH} levels) were not read`, count: counts.overflow });
  return { ok: true, facts: { distribution, contentSetCpes: contentSets, packages, coverageGaps: gaps }, foreign: counts.foreign > 0 };
}
