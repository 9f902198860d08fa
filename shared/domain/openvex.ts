/**
 * OpenVEX documents (https://github.com/openvex/spec, v0.2.0; the older string forms of
 * `vulnerability` and `products` are read too). scanhook uses the statements about a product
 * digest: `not_affected` and `fixed` remove the finding, `affected` and `under_investigation`
 * leave it. Statements are a sequence: for one vulnerability and product the latest by
 * `timestamp` (the document's when the statement has none; document order breaks ties) decides.
 */
import { z } from "zod";

const id = z.string().min(1).max(2048);
const component = z.object({
  "@id": id.optional(),
  identifiers: z.record(z.string(), z.string()).optional(),
  hashes: z.record(z.string(), z.string()).optional()
});
const product = z.union([id, component.extend({ subcomponents: z.array(z.union([id, component])).max(10_000).optional() })]);

export const VEX_STATUSES = ["not_affected", "affected", "fixed", "under_investigation"] as const;

const StatementSchema = z.object({
  vulnerability: z.union([id, z.object({ "@id": id.optional(), name: id, aliases: z.array(id).max(100).optional() })]),
  products: z.array(product).max(10_000).optional(),
  status: z.enum(VEX_STATUSES),
  justification: z.string().max(200).optional(),
  impact_statement: z.string().max(10_000).optional(),
  timestamp: z.iso.datetime({ offset: true }).optional()
});

export const OpenVexDocumentSchema = z.object({
  "@context": z.string().regex(/^https:\/\/openvex\.dev\/ns/, { message: "expected an OpenVEX @context (https://openvex.dev/ns/…)" }),
  "@id": id,
  author: z.string().min(1).max(500),
  timestamp: z.iso.datetime({ offset: true }),
  version: z.int().nonnegative().optional(),
  statements: z.array(StatementSchema).max(10_000)
});
export type OpenVexDocument = z.infer<typeof OpenVexDocumentSchema>;

/** A statement that names a digest, reduced to what matching a finding needs. */
export interface VexStatement {
  readonly document: string;
  readonly vulnerabilities: readonly string[];
  readonly status: (typeof VEX_STATUSES)[number];
  readonly justification: string | undefined;
  /** Package URLs the statement is limited to (without qualifiers); undefined: the whole image. */
  readonly subcomponents: readonly string[] | undefined;
  readonly timestamp: string;
  /** Position in the sequence, to break timestamp ties. */
  readonly order: number;
}

type Component = z.infer<typeof component>;

function namesDigest(c: string | Component, digest: string): boolean {
  const hex = digest.slice(digest.indexOf(":") + 1);
  const algorithm = digest.slice(0, digest.indexOf(":"));
  const texts = typeof c === "string" ? [c] : [c["@id"] ?? "", ...Object.values(c.identifiers ?? {})];
  for (const t of texts) {
    const decoded = t.replace(/%3A/gi, ":");
    // A bare digest, or a reference / pkg:oci purl pinned to it.
    if (decoded === digest || decoded.includes(`@${digest}`)) return true;
  }
  if (typeof c !== "string") {
    const hashes = c.hashes ?? {};
    const key = algorithm === "sha256" ? "sha-256" : "sha-512";
    if (hashes[key]?.toLowerCase() === hex) return true;
  }
  return false;
}

/** A purl without qualifiers and subpath, which is how findings and statements are compared. */
export function purlBase(purl: string): string {
  const cut = purl.search(/[?#]/);
  return cut < 0 ? purl : purl.slice(0, cut);
}

/** The statements of `documents` that speak about `digest`, in sequence order. */
export function vexStatementsFor(documents: readonly OpenVexDocument[], digest: string): VexStatement[] {
  const out: VexStatement[] = [];
  let order = 0;
  for (const doc of documents) {
    for (const s of doc.statements) {
      order++;
      const products = (s.products ?? []).filter((p) => namesDigest(p, digest));
      if (products.length === 0) continue;
      let subcomponents: string[] | undefined = [];
      for (const p of products) {
        const subs = typeof p === "string" ? undefined : p.subcomponents;
        if (subs === undefined || subs.length === 0) {
          subcomponents = undefined;
          break;
        }
        for (const sub of subs) {
          const purl = typeof sub === "string" ? sub : (sub.identifiers?.purl ?? sub["@id"]);
          if (purl !== undefined) subcomponents.push(purlBase(purl));
        }
      }
      const v = s.vulnerability;
      out.push({
        document: doc["@id"],
        vulnerabilities: typeof v === "string" ? [v] : [v.name, ...(v.aliases ?? []), ...(v["@id"] === undefined ? [] : [v["@id"]])],
        status: s.status,
        justification: s.justification,
        subcomponents,
        timestamp: new Date(s.timestamp ?? doc.timestamp).toISOString(),
        order
      });
    }
  }
  return out.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.order - b.order));
}

/**
 * The statement that decides for a finding (the latest that names one of its ids and, when limited
 * to subcomponents, its package), or undefined when none speaks about it.
 */
export function decidingStatement(
  statements: readonly VexStatement[],
  finding: { readonly ids: readonly string[]; readonly purl: string | undefined }
): VexStatement | undefined {
  let decided: VexStatement | undefined;
  for (const s of statements) {
    if (!s.vulnerabilities.some((v) => finding.ids.includes(v))) continue;
    if (s.subcomponents !== undefined && (finding.purl === undefined || !s.subcomponents.includes(purlBase(finding.purl)))) continue;
    decided = s;
  }
  return decided;
}
