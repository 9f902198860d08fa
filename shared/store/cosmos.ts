/**
 * The production store: Azure Cosmos DB for NoSQL through `@azure/cosmos`. Database `scanhook`,
 * containers `images`, `changes`, `state`, each partitioned by `/id`, so every point operation is
 * a single-partition one and reading a verdict is a point read (DESIGN principle 1).
 *
 * Authentication is an account key or an Entra ID `TokenCredential`. With Entra ID, data-plane
 * RBAC cannot create databases or containers, so this code creates them only when asked
 * (`createIfMissing`: locally and in tests); in Azure, Bicep creates them.
 */
import { CosmosClient, type Container as CosmosContainer, type CosmosClientOptions } from "@azure/cosmos";
import { ConflictError, describeError, ScanhookError } from "../domain/errors.js";
import { checkDocument, checkId, withoutSystemProperties } from "./documents.js";
import { checkQuery } from "./filter.js";
import { toCosmosQuery } from "./cosmos-query.js";
import { CONTAINER_NAMES, type Container, type ContainerName, type JsonDocument, type PingResult } from "./port.js";
import { updateDocument } from "./update.js";

export type TokenCredential = NonNullable<CosmosClientOptions["aadCredentials"]>;

export interface CosmosStoreOptions {
  /** Account endpoint, e.g. `https://myaccount.documents.azure.com:443/`. */
  endpoint: string;
  /** Account key; exactly one of `key` and `credential`. */
  key?: string;
  /** Entra ID credential (managed identity in Azure); exactly one of `key` and `credential`. */
  credential?: TokenCredential;
  /** Defaults to `scanhook`. */
  databaseId?: string;
  /** Create the database and containers when absent. Never with Entra ID in Azure (RBAC forbids it). */
  createIfMissing?: boolean;
  /** HTTP agent, e.g. one that accepts a test server's self-signed certificate. */
  agent?: CosmosClientOptions["agent"];
  /** Defaults to true; off for single-endpoint servers (emulators, test servers). */
  endpointDiscovery?: boolean;
}

export const DEFAULT_COSMOS_DATABASE = "scanhook";
export const COSMOS_PARTITION_KEY_PATH = "/id";

export interface CosmosStoreHandle {
  containers: Record<ContainerName, Container<JsonDocument>>;
  ping(): Promise<PingResult>;
  close(): Promise<void>;
}

export async function openCosmosStore(options: CosmosStoreOptions): Promise<CosmosStoreHandle> {
  if ((options.key === undefined) === (options.credential === undefined)) {
    throw new ScanhookError("STORE.INVALID_OPTIONS", "Cosmos DB needs exactly one of an account key and a credential");
  }
  const auth: Pick<CosmosClientOptions, "key" | "aadCredentials"> =
    options.key !== undefined ? { key: options.key } : { aadCredentials: options.credential };
  const client = new CosmosClient({
    endpoint: options.endpoint,
    ...auth,
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    connectionPolicy: { enableEndpointDiscovery: options.endpointDiscovery ?? true },
    userAgentSuffix: "scanhook"
  });
  const databaseId = options.databaseId ?? DEFAULT_COSMOS_DATABASE;
  try {
    if (options.createIfMissing === true) {
      const { database } = await client.databases.createIfNotExists({ id: databaseId });
      for (const id of CONTAINER_NAMES) {
        await database.containers.createIfNotExists({ id, partitionKey: { paths: [COSMOS_PARTITION_KEY_PATH] } });
      }
    }
  } catch (e) {
    client.dispose();
    throw new ScanhookError("STORE.UNAVAILABLE", `cannot create Cosmos DB database ${databaseId}: ${describeError(e)}`, {
      cause: e,
      meta: { databaseId }
    });
  }
  const database = client.database(databaseId);
  const containers = Object.fromEntries(
    CONTAINER_NAMES.map((n) => [n, cosmosContainer(database.container(n), n)])
  ) as Record<ContainerName, Container<JsonDocument>>;
  return {
    containers,
    async ping() {
      const started = performance.now();
      try {
        // Reading the container (metadata, allowed to data-plane roles) proves the endpoint
        // answers, the credential works and the container exists.
        await database.container("images").read({ abortSignal: AbortSignal.timeout(10_000) });
        return { ok: true, latencyMs: performance.now() - started };
      } catch (e) {
        return { ok: false, latencyMs: performance.now() - started, error: describeError(e) };
      }
    },
    async close() {
      client.dispose();
    }
  };
}

function statusOf(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = "code" in e ? e.code : "statusCode" in e ? e.statusCode : undefined;
  return typeof code === "number" ? code : undefined;
}

// Cosmos DB's substatus for a 404 whose container or database is missing, not the item.
const OWNER_RESOURCE_NOT_FOUND = 1003;

/** A 404 about the item itself; a missing container is an outage, not an absent document. */
function isItemNotFound(e: unknown): boolean {
  const substatus = typeof e === "object" && e !== null && "substatus" in e ? e.substatus : undefined;
  return statusOf(e) === 404 && substatus !== OWNER_RESOURCE_NOT_FOUND;
}

function cosmosContainer(c: CosmosContainer, name: ContainerName): Container<JsonDocument> {
  const unavailable = (op: string, id: string | undefined, e: unknown): ScanhookError =>
    new ScanhookError("STORE.UNAVAILABLE", `Cosmos DB ${op} on ${name}${id === undefined ? "" : `/${id}`} failed: ${describeError(e)}`, {
      cause: e,
      meta: { container: name, id, status: statusOf(e) }
    });
  const etagOf = (etag: string | undefined, op: string, id: string): string => {
    if (etag === undefined) throw unavailable(op, id, new Error("response carried no ETag"));
    return etag;
  };

  const container: Container<JsonDocument> = {
    name,
    async get(id) {
      checkId(id);
      try {
        const r = await c.item(id, id).read<JsonDocument>();
        if (r.statusCode === 404) {
          if (r.substatus === OWNER_RESOURCE_NOT_FOUND) throw new Error(`container ${name} does not exist`);
          return undefined;
        }
        if (r.resource === undefined) return undefined;
        return { doc: withoutSystemProperties(r.resource), etag: etagOf(r.etag, "read", id) };
      } catch (e) {
        if (isItemNotFound(e)) return undefined;
        throw unavailable("read", id, e);
      }
    },
    async upsert(doc) {
      checkDocument(doc);
      try {
        const r = await c.items.upsert(doc);
        return etagOf(r.etag, "upsert", doc.id);
      } catch (e) {
        if (e instanceof ScanhookError) throw e;
        throw unavailable("upsert", doc.id, e);
      }
    },
    async create(doc) {
      checkDocument(doc);
      try {
        const r = await c.items.create(doc);
        return etagOf(r.etag, "create", doc.id);
      } catch (e) {
        if (statusOf(e) === 409) throw new ConflictError(`${name}/${doc.id} already exists`, { container: name, id: doc.id });
        if (e instanceof ScanhookError) throw e;
        throw unavailable("create", doc.id, e);
      }
    },
    async replace(doc, etag) {
      checkDocument(doc);
      try {
        const r = await c.item(doc.id, doc.id).replace(doc, { accessCondition: { type: "IfMatch", condition: etag } });
        return etagOf(r.etag, "replace", doc.id);
      } catch (e) {
        const status = statusOf(e);
        if (status === 412 || isItemNotFound(e)) {
          throw new ConflictError(`${name}/${doc.id} changed or is gone (stale ETag)`, { container: name, id: doc.id });
        }
        if (e instanceof ScanhookError) throw e;
        throw unavailable("replace", doc.id, e);
      }
    },
    async delete(id, etag) {
      checkId(id);
      try {
        await c.item(id, id).delete(etag === undefined ? {} : { accessCondition: { type: "IfMatch", condition: etag } });
      } catch (e) {
        if (isItemNotFound(e)) return;
        if (statusOf(e) === 412) throw new ConflictError(`${name}/${id} changed (stale ETag)`, { container: name, id });
        throw unavailable("delete", id, e);
      }
    },
    async query(filter, options) {
      checkQuery(filter, options.limit);
      const spec = toCosmosQuery(filter);
      try {
        const r = await c.items
          .query<JsonDocument>(spec, {
            maxItemCount: options.limit,
            ...(options.continuation === undefined ? {} : { continuationToken: options.continuation })
          })
          .fetchNext();
        const items = r.resources.map(withoutSystemProperties);
        return r.continuationToken === undefined || r.continuationToken === "" || !r.hasMoreResults
          ? { items }
          : { items, continuation: r.continuationToken };
      } catch (e) {
        if (statusOf(e) === 400 && options.continuation !== undefined) {
          throw new ScanhookError("STORE.INVALID_CONTINUATION", "continuation token is invalid or belongs to another query", {
            cause: e
          });
        }
        throw unavailable("query", undefined, e);
      }
    },
    update: (id, mutate, options) => updateDocument(container, id, mutate, options)
  };
  return container;
}
