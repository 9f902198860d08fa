/**
 * The read-modify-write loop behind `Container.update`, written once on top of `get`, `create`
 * and `replace` so both engines retry conflicts the same way.
 */
import { ConflictError, isScanhookError, ScanhookError } from "../domain/errors.js";
import type { Container, Mutate, UpdateOptions, Versioned } from "./port.js";

export const DEFAULT_UPDATE_ATTEMPTS = 5;

type Ops<T extends { id: string }> = Pick<Container<T>, "get" | "create" | "replace">;

export async function updateDocument<T extends { id: string }>(
  ops: Ops<T>,
  id: string,
  mutate: Mutate<T>,
  options: UpdateOptions = {}
): Promise<Versioned<T> | undefined> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_UPDATE_ATTEMPTS;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const current = await ops.get(id);
    const next = await mutate(current === undefined ? undefined : structuredClone(current.doc));
    if (next === undefined) return current;
    if (next.id !== id) {
      throw new ScanhookError("STORE.INVALID_UPDATE", `update of ${id} returned a document with id ${next.id}`, {
        meta: { id, returnedId: next.id }
      });
    }
    try {
      const etag = current === undefined ? await ops.create(next) : await ops.replace(next, current.etag);
      return { doc: next, etag };
    } catch (e) {
      if (!isScanhookError(e, "STORE.CONFLICT")) throw e;
      // Another writer won this round: spread the retries a little so writers that keep meeting
      // do not keep colliding in lockstep.
      if (attempt < maxAttempts) await sleep(Math.floor(Math.random() * 5 * attempt));
    }
  }
  throw new ConflictError(`update of ${id} kept conflicting after ${maxAttempts} attempts`, { id, maxAttempts });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
