/**
 * The read-modify-write loop behind `Container.update`, written once on top of `get`, `create`
 * and `replace` so both engines retry conflicts the same way.
 */
import { ConflictError, isScanhookError, ScanhookError } from "../domain/errors.js";
import type { Container, Mutate, UpdateOptions, Versioned } from "./port.js";

export const DEFAULT_UPDATE_ATTEMPTS = 5;

type Ops<T extends { id: string }> = Pick<Container<T>, "get" | "create" | "replace">;

/**
 * Updates of one document through one container handle run one after another in this process:
 * a burst of events about one digest (2,000 webhook deliveries, say) would otherwise spend its
 * attempts conflicting with itself. Writers in other processes still meet the ETag check.
 */
const inFlight = new WeakMap<object, Map<string, Promise<unknown>>>();

function serialized<R>(owner: object, id: string, task: () => Promise<R>): Promise<R> {
  let byId = inFlight.get(owner);
  if (byId === undefined) {
    byId = new Map();
    inFlight.set(owner, byId);
  }
  const queue = byId;
  const run = (queue.get(id) ?? Promise.resolve()).then(task, task);
  const tail = run.then(
    () => undefined,
    () => undefined
  );
  queue.set(id, tail);
  void tail.then(() => {
    if (queue.get(id) === tail) queue.delete(id);
  });
  return run;
}

export function updateDocument<T extends { id: string }>(
  ops: Ops<T>,
  id: string,
  mutate: Mutate<T>,
  options: UpdateOptions = {}
): Promise<Versioned<T> | undefined> {
  return serialized(ops, id, () => updateOnce(ops, id, mutate, options));
}

async function updateOnce<T extends { id: string }>(
  ops: Ops<T>,
  id: string,
  mutate: Mutate<T>,
  options: UpdateOptions
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
