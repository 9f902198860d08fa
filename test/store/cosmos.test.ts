import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newImageRecord } from "../../shared/domain/image-record.js";
import type { TokenCredential } from "../../shared/store/cosmos.js";
import { openStore } from "../../shared/store/open-store.js";
import { digestOf, errorCode, storeContract } from "./contract.js";
import { startCosmosServer, type CosmosTestServer } from "./cosmos-server.js";

let server: CosmosTestServer;
beforeAll(async () => {
  server = await startCosmosServer();
});
afterAll(async () => {
  await server.close();
});

let databases = 0;
/** A fresh database per test, so tests cannot see each other's documents. */
function cosmosOptions(extra: { key?: string; credential?: TokenCredential; databaseId?: string; createIfMissing?: boolean } = {}) {
  return {
    kind: "cosmos" as const,
    endpoint: server.endpoint,
    agent: server.agent,
    endpointDiscovery: false,
    databaseId: extra.databaseId ?? `test${++databases}`,
    createIfMissing: extra.createIfMissing ?? true,
    ...(extra.credential === undefined ? { key: extra.key ?? "dGVzdC1rZXk=" } : { credential: extra.credential })
  };
}

storeContract("cosmos", () => openStore(cosmosOptions()));

describe("cosmos store", () => {
  it("with Entra ID sends Cosmos DB's AAD authorization with the credential's token", async () => {
    // JWT-shaped: base64url segments, the only characters an Entra ID access token has.
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJlLV8";
    const scopes: string[] = [];
    const credential: TokenCredential = {
      getToken: async (scope) => {
        scopes.push(...(Array.isArray(scope) ? scope : [scope]));
        return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
      }
    };
    const before = server.authorizations.length;
    const store = await openStore(cosmosOptions({ credential }));
    const record = newImageRecord(digestOf(7), new Date("2025-01-01T00:00:00Z"));
    await store.images.upsert(record);
    expect((await store.images.get(digestOf(7)))?.doc).toEqual(record);
    await store.close();
    const sent = [...new Set(server.authorizations.slice(before))];
    // Cosmos DB reads the header URL-decoded. @azure/cosmos 4.9.3 sends the AAD form without
    // encoding it (its master-key form is encoded); decoding accepts both spellings.
    expect(sent.map((h) => decodeURIComponent(h))).toEqual([`type=aad&ver=1.0&sig=${token}`]);
    expect([...new Set(scopes)]).toEqual([`${server.endpoint}/.default`]);
  });

  it("with a key sends a master-key signature", async () => {
    const before = server.authorizations.length;
    const store = await openStore(cosmosOptions());
    await store.state.upsert({ id: "x" });
    await store.close();
    const sent = server.authorizations.slice(before);
    expect(sent.length > 0 && sent.every((h) => h.startsWith("type%3Dmaster%26ver%3D1.0%26sig%3D"))).toEqual(true);
  });

  it("creates nothing unless told to: ping reports the missing database", async () => {
    const store = await openStore(cosmosOptions({ createIfMissing: false }));
    const ping = await store.ping();
    expect(ping.ok).toEqual(false);
    await store.close();
  });

  it("reuses a database that already exists", async () => {
    const first = await openStore(cosmosOptions({ databaseId: "reused" }));
    await first.state.upsert({ id: "kept", v: 1 });
    await first.close();
    const second = await openStore(cosmosOptions({ databaseId: "reused", createIfMissing: false }));
    expect((await second.state.get("kept"))?.doc).toEqual({ id: "kept", v: 1 });
    expect((await second.ping()).ok).toEqual(true);
    await second.close();
  });

  it("an unreachable account: ping says why without throwing, operations fail as STORE.UNAVAILABLE", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const store = await openStore({ ...cosmosOptions({ createIfMissing: false }), endpoint: `https://127.0.0.1:${port}` });
    const ping = await store.ping();
    expect(ping.ok ? "ok" : ping.error).toEqual(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(await errorCode(() => store.state.get("x"))).toEqual("STORE.UNAVAILABLE");
    await store.close();
  });

  it("needs exactly one of a key and a credential", async () => {
    const credential: TokenCredential = { getToken: async () => null };
    expect(await errorCode(() => openStore({ ...cosmosOptions(), credential }))).toEqual("STORE.INVALID_OPTIONS");
  });
});
