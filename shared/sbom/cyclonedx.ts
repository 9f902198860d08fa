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
 * {@link readSbomFacts} accepts (a property test holds the two equal, first failing path included).
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

type Path = (string | number)[];

/** The first thing the schema refuses in a document: where, as the schema names paths, and what. */
interface Problem {
  readonly path: Path;
  readonly message: string;
}

/**
 * The first of a component's string fields (`type`, `name`, `version`, `purl`, the schema's
 * order) that is present but not a string. Named loads, not a loop over the names: a keyed load
 * by a varying name is megamorphic, and this runs for every component of every rematch.
 */
function badStringField(v: Record<string, unknown>): "type" | "name" | "version" | "purl" | undefined {
  if (v.type !== undefined && typeof v.type !== "string") return "type";
  if (v.name !== undefined && typeof v.name !== "string") return "name";
  if (v.version !== undefined && typeof v.version !== "string") return "version";
  if (v.purl !== undefined && typeof v.purl !== "string") return "purl";
  return undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const expected = (path: Path, what: string, v: unknown): Problem => ({ path, message: `expected ${what}, received ${kindOf(v)}` });

/** The problem with a `properties` array at `at`, if any. */
function propertiesProblem(list: unknown, at: Path): Problem | undefined {
  if (!Array.isArray(list)) return expected(at, "array", list);
  for (let i = 0; i < list.length; i++) {
    const p: unknown = list[i];
    if (!isObject(p)) return expected([...at, i], "object", p);
    if (typeof p.name !== "string") return expected([...at, i, "name"], "string", p.name);
    if (p.value !== undefined && typeof p.value !== "string") return expected([...at, i, "value"], "string", p.value);
  }
  return undefined;
}

/**
 * Checks a subtree the reader does not read (`metadata.component`, components past its limits)
 * as {@link BomSchema} would: depth-first in the schema's key order, with an explicit stack so
 * that no nesting depth overflows the call stack. `value` is a component, or with `list` an array
 * of them.
 */
function treeProblem(value: unknown, at: Path, list: boolean): Problem | undefined {
  // Each task knows its parent, not its whole path: a path is built only for the problem found.
  interface Task {
    readonly list: boolean;
    readonly value: unknown;
    /** Undefined for the subtree's root, which is at `at`. */
    readonly key: string | number | undefined;
    readonly parent: Task | undefined;
  }
  const pathOf = (task: Task | undefined, ...rest: Path): Path => {
    const path = rest;
    for (let t = task; t !== undefined; t = t.parent) if (t.key !== undefined) path.unshift(t.key);
    return [...at, ...path];
  };
  const stack: Task[] = [{ list, value, key: undefined, parent: undefined }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    const v = task.value;
    if (task.list) {
      if (!Array.isArray(v)) return expected(pathOf(task), "array", v);
      for (let i = v.length - 1; i >= 0; i--) stack.push({ list: false, value: v[i] as unknown, key: i, parent: task });
      continue;
    }
    if (!isObject(v)) return expected(pathOf(task), "object", v);
    const field = badStringField(v);
    if (field !== undefined) return expected(pathOf(task, field), "string", v[field]);
    if (v.properties !== undefined) {
      const bad = propertiesProblem(v.properties, pathOf(task, "properties"));
      if (bad !== undefined) return bad;
    }
    if (v.components !== undefined) stack.push({ list: true, value: v.components, key: "components", parent: task });
  }
  return undefined;
}

export type SbomRead = { readonly ok: true; readonly facts: SbomFacts; readonly foreign: boolean } | { readonly ok: false; readonly reason: string };

function prop(list: readonly RawProperty[] | undefined, name: string): string | undefined {
  const v = list?.find((p) => p.name === name)?.value;
  return v === undefined || v === "" ? undefined : v;
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

/**
 * Reads the facts while checking the document against {@link BomSchema}, in one walk: a stored
 * SBOM is read again for every rematch, and checking it first in a walk of its own touched every
 * component and property twice. Refuses exactly what the schema refuses, naming the schema's first
 * problem (a property test holds the two equal); the document is read in place, never copied.
 */
export function readSbomFacts(json: unknown): SbomRead {
  const refuse = (p: Problem): SbomRead => ({ ok: false, reason: `not a CycloneDX JSON SBOM: ${p.path.join(".") || "document"}: ${p.message}` });
  if (!isObject(json)) return refuse(expected([], "object", json));
  if (json.bomFormat !== "CycloneDX") return refuse({ path: ["bomFormat"], message: 'expected "CycloneDX"' });
  if (typeof json.specVersion !== "string") return refuse(expected(["specVersion"], "string", json.specVersion));
  let meta: readonly RawProperty[] | undefined;
  if (json.metadata !== undefined) {
    const m = json.metadata;
    if (!isObject(m)) return refuse(expected(["metadata"], "object", m));
    // The schema's order: metadata's properties, its component, then the components.
    if (m.properties !== undefined) {
      const bad = propertiesProblem(m.properties, ["metadata", "properties"]);
      if (bad !== undefined) return refuse(bad);
      meta = m.properties as RawProperty[];
    }
    if (m.component !== undefined) {
      const bad = treeProblem(m.component, ["metadata", "component"], false);
      if (bad !== undefined) return refuse(bad);
    }
  }
  const contentSets = (meta ?? []).filter((p) => p.name === SBOM_PROPERTIES.contentSetCpe && p.value !== undefined && p.value !== "").map((p) => p.value as string);
  let distribution = prop(meta, SBOM_PROPERTIES.distribution);
  const packages: InstalledPackage[] = [];
  const counts = { noPurl: 0, noVersion: 0, noSource: 0, noDistro: 0, overflow: 0, foreign: 0, os: 0 };
  const examples = { noPurl: [] as string[], noVersion: [] as string[] };
  const note = (list: string[], what: string): void => {
    if (list.length < 3) list.push(what);
  };

  // Where the walk is (`components`, index, `components`, index …): a path is copied only for a problem.
  const trail: Path = [];
  let lastLayerText: string | undefined;
  let lastLayer: Digest | undefined;
  const visit = (value: unknown, depth: number): Problem | undefined => {
    if (!isObject(value)) return expected([...trail], "object", value);
    const field = badStringField(value);
    if (field !== undefined) return expected([...trail, field], "string", value[field]);
    const c = value as RawComponent;
    // scanhook's properties, the first of each name (empty as absent), read as they are checked.
    let analyzer: string | undefined;
    let ecosystem: string | undefined;
    let sourceName: string | undefined;
    let sourceVersion: string | undefined;
    let layerValue: string | undefined;
    let seen = 0;
    const list: unknown = value.properties;
    if (list !== undefined) {
      if (!Array.isArray(list)) return expected([...trail, "properties"], "array", list);
      for (let i = 0; i < list.length; i++) {
        const p: unknown = list[i];
        if (!isObject(p)) return expected([...trail, "properties", i], "object", p);
        const n = p.name;
        const v = p.value;
        if (typeof n !== "string") return expected([...trail, "properties", i, "name"], "string", n);
        if (v !== undefined && typeof v !== "string") return expected([...trail, "properties", i, "value"], "string", v);
        const text = v === "" ? undefined : v;
        if (n === SBOM_PROPERTIES.analyzer) {
          if ((seen & 1) === 0) analyzer = text;
          seen |= 1;
        } else if (n === SBOM_PROPERTIES.ecosystem) {
          if ((seen & 2) === 0) ecosystem = text;
          seen |= 2;
        } else if (n === SBOM_PROPERTIES.sourceName) {
          if ((seen & 4) === 0) sourceName = text;
          seen |= 4;
        } else if (n === SBOM_PROPERTIES.sourceVersion) {
          if ((seen & 8) === 0) sourceVersion = text;
          seen |= 8;
        } else if (n === SBOM_PROPERTIES.layer) {
          if ((seen & 16) === 0) layerValue = text;
          seen |= 16;
        }
      }
    }
    const children: unknown = value.components;
    if (children !== undefined && !Array.isArray(children)) return expected([...trail, "components"], "array", children);
    const unread = (): Problem | undefined => (children === undefined ? undefined : treeProblem(children, [...trail, "components"], true));
    if (packages.length + counts.noPurl + counts.noVersion >= MAX_COMPONENTS) {
      counts.overflow++;
      return unread();
    }
    if (c.type === undefined || PACKAGE_TYPES.has(c.type)) {
      // Components of one layer name it alike: checked once per run of equal values, not per component.
      if (layerValue !== lastLayerText) {
        lastLayerText = layerValue;
        lastLayer = layerValue !== undefined && isDigest(layerValue) ? layerValue : undefined;
      }
      if (analyzer !== undefined && c.name !== undefined && c.version !== undefined && c.type !== "operating-system") {
        // scanhook's own component: its properties are the facts. Assigned, not spread in
        // conditionally: this runs for every package of every rematch.
        const pkg: Mutable<InstalledPackage> = { name: c.name, version: c.version, purl: c.purl ?? "", ecosystem, analyzer };
        if (sourceName !== undefined) pkg.source = sourceVersion === undefined ? { name: sourceName } : { name: sourceName, version: sourceVersion };
        if (lastLayer !== undefined) pkg.layer = lastLayer;
        packages.push(pkg);
      } else readForeign(c, lastLayer);
    }
    if (children === undefined || children.length === 0) return undefined;
    if (depth >= MAX_DEPTH) {
      counts.overflow += children.length;
      return unread();
    }
    trail.push("components", 0);
    for (let i = 0; i < children.length; i++) {
      trail[trail.length - 1] = i;
      const bad = visit(children[i], depth + 1);
      if (bad !== undefined) return bad;
    }
    trail.length -= 2;
    return undefined;
  };

  const readForeign = (c: RawComponent, layer: Digest | undefined): void => {
    const label = c.name ?? "(unnamed)";
    if (c.type === "operating-system") return;
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

  const components: unknown = json.components;
  if (components !== undefined) {
    if (!Array.isArray(components)) return refuse(expected(["components"], "array", components));
    trail.push("components", 0);
    for (let i = 0; i < components.length; i++) {
      trail[1] = i;
      const bad = visit(components[i], 0);
      if (bad !== undefined) return refuse(bad);
    }
  }

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
