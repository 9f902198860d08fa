/**
 * Opens the store the settings name: SQLite for one machine, Cosmos DB in Azure. Each adapter is
 * imported only when chosen, so a deployment never loads the engine it does not use.
 */
import { parseImageRecord, type ImageRecord } from "../domain/image-record.js";
import type { CosmosStoreOptions } from "./cosmos.js";
import type { ContainerName, Container, JsonDocument, PingResult, Store } from "./port.js";
import type { SqliteStoreOptions } from "./sqlite.js";
import { withSchema } from "./validated.js";

export type StoreOptions = ({ kind: "sqlite" } & SqliteStoreOptions) | ({ kind: "cosmos" } & CosmosStoreOptions);

interface Handle {
  containers: Record<ContainerName, Container<JsonDocument>>;
  ping(): Promise<PingResult>;
  close(): Promise<void>;
}

export async function openStore(options: StoreOptions): Promise<Store<ImageRecord>> {
  let handle: Handle;
  if (options.kind === "sqlite") {
    const { openSqliteStore } = await import("./sqlite.js");
    handle = await openSqliteStore({ path: options.path });
  } else {
    const { openCosmosStore } = await import("./cosmos.js");
    handle = await openCosmosStore(options);
  }
  const { containers } = handle;
  return {
    kind: options.kind,
    images: withSchema(containers.images, parseImageRecord),
    changes: containers.changes,
    state: containers.state,
    documents: (name) => containers[name],
    ping: () => handle.ping(),
    close: () => handle.close()
  };
}
