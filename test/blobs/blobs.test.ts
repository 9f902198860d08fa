import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type AzuriteHandle } from "../../functions/host/azurite.js";
import { AzureBlobStore } from "../../shared/blobs/azure-blobs.js";
import type { BlobStore } from "../../shared/blobs/blobs.js";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import { freePort, killAzuritesUnder } from "../host/azurite-helpers.js";

/** One contract, both adapters: Azure Blob Storage (on Azurite) and a directory. */
function blobContract(name: string, open: () => BlobStore): void {
  describe(`blob store: ${name}`, () => {
    it("puts, gets, streams, lists by prefix and deletes", async () => {
      const blobs = open();
      expect(await blobs.get("scanhook-results", "sboms/sha256/none.json")).toBeUndefined();
      expect(await blobs.openRead("scanhook-results", "sboms/sha256/none.json")).toBeUndefined();
      expect(await blobs.put("scanhook-results", "sboms/sha256/a.json", Buffer.from("{\"a\":1}"), { contentType: "application/json" })).toBe(true);
      expect(await blobs.put("scanhook-results", "sboms/sha256/b.json", Readable.from([Buffer.from("b-"), Buffer.from("streamed")]))).toBe(true);
      await blobs.put("scanhook-results", "reports/sha256/a.json", Buffer.from("r"));
      expect((await blobs.get("scanhook-results", "sboms/sha256/a.json"))?.toString()).toBe("{\"a\":1}");
      const stream = await blobs.openRead("scanhook-results", "sboms/sha256/b.json");
      const chunks: Buffer[] = [];
      for await (const chunk of stream ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
      expect(Buffer.concat(chunks).toString()).toBe("b-streamed");
      const listed: string[] = [];
      for await (const n of blobs.list("scanhook-results", "sboms/")) listed.push(n);
      expect(listed.sort()).toEqual(["sboms/sha256/a.json", "sboms/sha256/b.json"]);
      await blobs.delete("scanhook-results", "sboms/sha256/a.json");
      await blobs.delete("scanhook-results", "sboms/sha256/a.json");
      expect(await blobs.get("scanhook-results", "sboms/sha256/a.json")).toBeUndefined();
      expect(await blobs.ping()).toEqual({ ok: true });
    });

    it("writes once with ifNotExists", async () => {
      const blobs = open();
      expect(await blobs.put("scanhook-layer-cache", "layers/x/os-dpkg/1.json", Buffer.from("first"), { ifNotExists: true })).toBe(true);
      expect(await blobs.put("scanhook-layer-cache", "layers/x/os-dpkg/1.json", Buffer.from("second"), { ifNotExists: true })).toBe(false);
      expect((await blobs.get("scanhook-layer-cache", "layers/x/os-dpkg/1.json"))?.toString()).toBe("first");
    });

    it("refuses names that would leave the container", async () => {
      const blobs = open();
      for (const bad of ["../escape", "/abs", "a//b", "a/./b", "sp ace"]) await expect(blobs.get("scanhook-results", bad)).rejects.toThrow(/invalid blob name/);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "scanhook-blobs-"));
let azurite: AzuriteHandle;

beforeAll(async () => {
  azurite = await startAzurite({ dataDir: join(dir, "azurite-data"), blobPort: await freePort(), queuePort: await freePort() });
});
afterAll(async () => {
  await azurite?.stop();
  await killAzuritesUnder(dir);
  rmSync(dir, { recursive: true, force: true });
});

blobContract("azure (Azurite)", () => new AzureBlobStore(BlobServiceClient.fromConnectionString(azurite.connectionString)));
blobContract("directory", () => new DirectoryBlobStore(join(dir, "files")));
