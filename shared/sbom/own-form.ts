/**
 * scanhook's own stored SBOMs, read without parsing them into a tree. Every DB update rematches
 * every stored image, and `JSON.parse` of the SBOM was half of each rematch: it builds an object
 * for every component and property, and the matcher then reads a few strings out of each.
 *
 * The form scanhook writes is fixed: compact `JSON.stringify` output of `toCycloneDx`
 * (`shared/scanner/sbom/cyclonedx.ts`), `components` last, each component's keys and `scanhook:`
 * properties in one order. That form is recognized here with one sticky regular expression per
 * component, whose captures are the facts. A string is recognized only when it has no escape and
 * no control character, so its text is its value and the text it was found in is valid JSON.
 *
 * Anything else is not recognized (undefined), and the caller parses it in full with
 * {@link readSbomFacts}: another tool's SBOM, pretty-printed JSON, a string with an escape, a
 * component with a field or property scanhook does not write, a duplicate `components`. What is
 * recognized reads exactly as `JSON.parse` and {@link readSbomFacts} read it (a property test holds
 * the two equal over written and damaged SBOMs alike).
 */
import { isDigest, type Digest } from "../domain/digest.js";
import { SBOM_PROPERTIES, type InstalledPackage } from "../domain/package.js";
import { MAX_COMPONENTS, readSbomFacts, type SbomRead } from "./cyclonedx.js";

/** A JSON string whose text is its value (no escape, no control character), captured. */
const PLAIN = String.raw`"([^"\\\u0000-\u001f]*)"`;
/** The same, not captured. */
const SKIPPED = String.raw`"[^"\\\u0000-\u001f]*"`;
/** A property value: an empty one reads as absent (`readSbomFacts`), so only a filled one is recognized. */
const FILLED = String.raw`"([^"\\\u0000-\u001f]+)"`;

const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const property = (name: string): string => String.raw`\{"name":"${literal(name)}","value":${FILLED}\}`;
const P = SBOM_PROPERTIES;

/**
 * A component as `toCycloneDx` writes it, then the `,` or `]` after it. A package (captures 1–8:
 * name, version, purl, analyzer, ecosystem, source name, source version, layer), or the
 * distribution's `operating-system` component, which is no package (capture 1 unset).
 */
const COMPONENT = new RegExp(
  "(?:" +
    String.raw`\{"type":"library","bom-ref":${SKIPPED},"name":${PLAIN},"version":${PLAIN},"purl":${PLAIN},"properties":\[` +
    `${property(P.analyzer)}(?:,${property(P.ecosystem)})?(?:,${property(P.sourceName)}(?:,${property(P.sourceVersion)})?)?(?:,${property(P.layer)})?` +
    String.raw`\]\}` +
    "|" +
    String.raw`\{"type":"operating-system","bom-ref":${SKIPPED},"name":${SKIPPED}(?:,"version":${SKIPPED})?\}` +
    String.raw`)([,\]])`,
  "y"
);

const COMPONENTS_KEY = ',"components":[';

/** Strings {@link own} remembers; past this it starts over (the strings handed out stay valid). */
const OWNED_LIMIT = 200_000;
let owned = new Map<string, string>();

/**
 * One flat string per distinct value, remembered across reads. V8 returns a capture of 13
 * characters or more as a slice of the text it was found in, and the matcher keeps versions and
 * names for the DB's life (its answers are looked up by them): each slice kept would keep a whole
 * SBOM text alive, and comparing slices is slow. JSON.parse makes flat strings, and so does this,
 * once per distinct value: an SBOM's versions and names recur across a registry's images. Shorter
 * captures are copies already, and left as they are.
 */
function own(s: string): string {
  if (s.length < 13) return s;
  const known = owned.get(s);
  if (known !== undefined) return known;
  if (owned.size >= OWNED_LIMIT) owned = new Map();
  // A recognized string has no escape, so quoted it is its own JSON text: parsed, a flat copy.
  const copy = JSON.parse(`"${s}"`) as string;
  owned.set(copy, copy);
  return copy;
}

/** The facts of an SBOM in scanhook's own form, or undefined when `text` is not in it. */
export function readOwnSbom(text: string): SbomRead | undefined {
  // The first `,"components":[` is a key: inside a string its `"` would have to be escaped. Whether
  // it is the document's own key, the head parsing as the document's first part says.
  const at = text.indexOf(COMPONENTS_KEY);
  if (at < 0) return undefined;
  let head: unknown;
  try {
    head = JSON.parse(`${text.slice(0, at)}}`);
  } catch {
    return undefined;
  }
  // A `components` key in the head too: JSON.parse would keep the last, so the full read decides.
  if (typeof head !== "object" || head === null || Object.hasOwn(head, "components")) return undefined;
  const top = readSbomFacts(head);
  if (!top.ok) return undefined;

  const packages: InstalledPackage[] = [];
  let lastLayerText: string | undefined;
  let lastLayer: Digest | undefined;
  let pos = at + COMPONENTS_KEY.length;
  if (text.charCodeAt(pos) === 93 /* ] */) pos++;
  else {
    for (;;) {
      COMPONENT.lastIndex = pos;
      const m = COMPONENT.exec(text);
      if (m === null) return undefined;
      pos = COMPONENT.lastIndex;
      const name = m[1];
      if (name !== undefined) {
        // Past the reader's limit the rest is a coverage gap, which the full read reports.
        if (packages.length >= MAX_COMPONENTS) return undefined;
        const layerText = m[8];
        // As readSbomFacts: a layer is checked once per run of components naming it alike.
        if (layerText !== lastLayerText) {
          lastLayerText = layerText;
          lastLayer = layerText !== undefined && isDigest(layerText) ? (own(layerText) as Digest) : undefined;
        }
        // The fields in readSbomFacts's order, so that both make objects of one shape.
        // The purl goes only into findings, which live as long as the match: it stays a slice.
        const ecosystem = m[5];
        const pkg: { -readonly [K in keyof InstalledPackage]: InstalledPackage[K] } = {
          name: own(name),
          version: own(m[2] as string),
          purl: m[3] as string,
          ecosystem: ecosystem === undefined ? undefined : own(ecosystem),
          analyzer: own(m[4] as string)
        };
        const sourceName = m[6];
        const sourceVersion = m[7];
        if (sourceName !== undefined) pkg.source = sourceVersion === undefined ? { name: own(sourceName) } : { name: own(sourceName), version: own(sourceVersion) };
        if (lastLayer !== undefined) pkg.layer = lastLayer;
        packages.push(pkg);
      }
      if (m[9] === "]") break;
    }
  }
  if (pos !== text.length - 1 || text.charCodeAt(pos) !== 125 /* } */) return undefined;
  return { ok: true, facts: { ...top.facts, packages }, foreign: false };
}
