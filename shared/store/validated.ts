/**
 * A typed view of a raw container: every document read back is parsed by its schema (STYLE
 * practice 9), and every document written is parsed first, so nothing invalid reaches the store.
 */
import type { Container, JsonDocument, Mutate, Versioned } from "./port.js";
import { updateDocument } from "./update.js";

export function withSchema<T extends { id: string }>(
  raw: Container<JsonDocument>,
  parse: (doc: unknown) => T
): Container<T> {
  // Parsed again on the way out, so a writer cannot slip an invalid document past the type system.
  const toStored = (doc: T): JsonDocument => {
    const parsed = parse(doc);
    return { ...(parsed as object), id: parsed.id };
  };
  const typed: Container<T> = {
    name: raw.name,
    async get(id) {
      const found = await raw.get(id);
      return found === undefined ? undefined : { doc: parse(found.doc), etag: found.etag };
    },
    upsert: (doc) => raw.upsert(toStored(doc)),
    create: (doc) => raw.create(toStored(doc)),
    replace: (doc, etag) => raw.replace(toStored(doc), etag),
    delete: (id, etag) => raw.delete(id, etag),
    async query(filter, options) {
      const page = await raw.query(filter, options);
      return { ...page, items: page.items.map(parse) };
    },
    update: (id: string, mutate: Mutate<T>, options): Promise<Versioned<T> | undefined> =>
      updateDocument(typed, id, mutate, options)
  };
  return typed;
}
