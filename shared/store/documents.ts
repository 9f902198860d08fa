/** Rules every adapter applies to documents alike, so the engines cannot drift. */
import { ScanhookError } from "../domain/errors.js";
import type { JsonDocument } from "./port.js";

/** Cosmos DB's limits on `id`, enforced on SQLite too so a local store never holds what Azure refuses. */
export function checkId(id: unknown): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.length > 255 || /[/\\?#]/.test(id)) {
    throw new ScanhookError("STORE.INVALID_ID", `invalid document id ${JSON.stringify(id)}`, {
      meta: { id: typeof id === "string" ? id.slice(0, 300) : typeof id }
    });
  }
}

export function checkDocument(doc: unknown): asserts doc is JsonDocument {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ScanhookError("STORE.INVALID_DOCUMENT", "a document must be a JSON object");
  }
  checkId("id" in doc ? doc.id : undefined);
}

// Cosmos DB adds these to every stored document; they are the engine's, not the document's.
const SYSTEM_PROPERTIES = new Set(["_rid", "_self", "_etag", "_attachments", "_ts", "_lsn"]);

export function withoutSystemProperties(doc: JsonDocument): JsonDocument {
  const copy: JsonDocument = { id: doc.id };
  for (const [k, v] of Object.entries(doc)) if (!SYSTEM_PROPERTIES.has(k)) copy[k] = v;
  return copy;
}
