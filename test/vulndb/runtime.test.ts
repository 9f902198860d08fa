import { existsSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vulndbRefresh } from "../../functions/vulndb-refresh.js";
import type { Services } from "../../functions/services.js";
import { BLOB_CONTAINERS } from "../../shared/blobs/blobs.js";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import { loadSettings } from "../../shared/config.js";
import type { Digest } from "../../shared/domain/digest.js";
import { NO_DB_VERSION } from "../../shared/domain/match.js";
import { DEFAULT_ECOSYSTEMS, DEFAULT_OSV_BASE_URL, DEFAULT_REDHAT_CPE_URL } from "../../shared/vulndb/defaults.js";
import { readDbInfo } from "../../shared/vulndb/db/reader.js";
import { blobDbProvider, CURRENT_MANIFEST } from "../../shared/vulndb/provider.js";
import { refreshConfigFrom, VulnDbRefresher } from "../../shared/vulndb/refresh.js";
import { eventually } from "../host/azurite-helpers.js";
import { startTestHost, type TestHost } from "../helpers/host.js";
import { ExportServer } from "./export-server.js";
import { neverMatched, osv, tempDir, utilLinuxSbom } from "./support.js";

/**
 * The runtime's DB lifecycle against an OSV export stand-in on 127.0.0.1: the first start builds
 * the DB in the background and matches what was indexed meanwhile; unreachable sources are said
 * once and the host keeps serving; in Azure mode each new version is published as a blob and the
 * next instance starts from it.
 */

const osvServer = new ExportServer();
const { files } = osvServer;
/** While set, `all.zip` requests wait for it: the test decides when the "download" finishes. */
let gate: Promise<void> | undefined;
let base: string;
const t = tempDir("runtime");

beforeAll(async () => {
  osvServer.hold = (path) => (path.endsWith("/all.zip") ? gate : undefined);
  base = await osvServer.start();
});
afterAll(async () => {
  await osvServer.close();
  t.remove();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

interface Logged {
  level: string;
  text: string;
}
function capturing(lines: Logged[]): InvocationContext {
  return new InvocationContext({
    functionName: "vulndbRefresh",
    logHandler: (level, ...args) => lines.push({ level, text: args.map(String).join(" ") })
  });
}

const advisory = osv("DSA-5500-1", "Debian:12", "util-linux", [{ introduced: "0" }, { fixed: "2.38.1-5+deb12u4" }]);

describe("settings", () => {
  it("default to the public OSV export, every covered ecosystem and Red Hat's map; none turns the map off", () => {
    const config = refreshConfigFrom(loadSettings([{ SCANHOOK_DATA_DIR: "/data" }]));
    expect(config).toEqual({ path: "/data/vulndb.sqlite", source: "file", download: true, osvBaseUrl: DEFAULT_OSV_BASE_URL, ecosystems: DEFAULT_ECOSYSTEMS, redHatCpeUrl: DEFAULT_REDHAT_CPE_URL });
    expect(refreshConfigFrom(loadSettings([{ REDHAT_CPE_URL: "none", OSV_ECOSYSTEMS: "Debian, npm", VULNDB_DOWNLOAD: "false" }]))).toMatchObject({ redHatCpeUrl: undefined, ecosystems: ["Debian", "npm"], download: false });
  });
});

describe("the first npm start", () => {
  let host: TestHost;
  const digest = `sha256:${"e".repeat(64)}` as Digest;
  const sbomBlob = `sboms/sha256/${"e".repeat(64)}.cdx.json`;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    osvServer.publish("Debian", [advisory]);
    files.set("/redhat/repository-to-cpe.json", Buffer.from(JSON.stringify({ data: { "rhel-9-for-x86_64-baseos-rpms": { cpes: ["cpe:/o:redhat:enterprise_linux:9::baseos"] } } })));
    gate = new Promise<void>((resolve) => (release = resolve));
    osvServer.fetched.length = 0;
    host = await startTestHost({
      settings: { VULNDB_DOWNLOAD: "true", OSV_BASE_URL: base, OSV_ECOSYSTEMS: "Debian", REDHAT_CPE_URL: `${base}/redhat/repository-to-cpe.json` },
      hostJson: { version: "2.0", extensions: { queues: { maxPollingInterval: "00:00:00.200", visibilityTimeout: "00:00:02", maxDequeueCount: 3 } } }
    });
  }, 120_000);
  afterAll(async () => {
    release();
    gate = undefined;
    await host.stop();
  });

  it("serves while the DB builds in the background, then matches what was indexed meanwhile", async () => {
    const services = host.host.services;
    expect(host.host.mounted.timer).toEqual(expect.arrayContaining(["vulndbRefresh", "vulndbPending"]));
    expect(host.host.mounted.queue).toContain("rematchRequests");
    // The download is held: the host answers, and an image indexed now has no DB to match.
    expect((await fetch(new URL("api/health", host.host.url), { headers: { "x-functions-key": host.readKey } })).status).toBe(200);
    expect(await eventually(() => osvServer.paths().includes("/redhat/repository-to-cpe.json"), 30_000)).toBe(true);
    expect(await services.vulndb.matcher()).toBeUndefined();
    await services.blobs.put(BLOB_CONTAINERS.results, sbomBlob, Buffer.from(JSON.stringify(utilLinuxSbom(`sha256:${"c".repeat(64)}`))));
    await services.store.images.upsert(neverMatched(digest, sbomBlob));

    release();
    const dbPath = join(host.host.dataDir, "vulndb.sqlite");
    expect(await eventually(async () => (await services.store.images.get(digest))?.doc.result?.dbVersion !== NO_DB_VERSION, 60_000)).toBe(true);
    const result = (await services.store.images.get(digest))?.doc.result;
    expect(result?.dbVersion).toBe(readDbInfo(dbPath).version);
    expect(result?.findings.map((f) => [f.id, f.packageName, f.sourcePackage])).toEqual([
      ["DSA-5500-1", "bsdutils", "util-linux"],
      ["DSA-5500-1", "mount", "util-linux"]
    ]);
    expect(result?.coverageGaps).toEqual([]);
    expect(readDbInfo(dbPath).repositoryCpes).toBe(1);
    expect(osvServer.paths()).toEqual(["/redhat/repository-to-cpe.json", "/Debian/all.zip"]);
  }, 120_000);
});

describe("unreachable sources", () => {
  it("are said once, clearly, and the refresh keeps its DB and retries quietly", async () => {
    const port = await closedPort();
    const dir = join(t.dir, "unreachable");
    const settings = loadSettings([{ SCANHOOK_DATA_DIR: dir, OSV_BASE_URL: `http://127.0.0.1:${port}`, OSV_ECOSYSTEMS: "Debian", REDHAT_CPE_URL: "none" }]);
    const services = { settings, blobs: new DirectoryBlobStore(join(dir, "blobs")), vulndb: { matcher: async () => undefined } } as unknown as Services;
    const lines: Logged[] = [];
    const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: "", next: "", lastUpdated: "" } };
    for (let i = 0; i < 3; i++) await vulndbRefresh.handler(timer, capturing(lines), services);
    const warnings = lines.filter((l) => l.level === "warning");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.text).toContain(`cannot reach http://127.0.0.1:${port}/Debian/all.zip`);
    expect(warnings[0]?.text).toContain("keeps serving");
    expect(warnings[0]?.text).toContain("VULNDB_DOWNLOAD=false");
    expect(lines.filter((l) => l.level === "debug" && l.text.includes("failed again"))).toHaveLength(2);
    expect(existsSync(join(dir, "vulndb.sqlite"))).toBe(false);
  });

  it("leave a running host serving", async () => {
    const port = await closedPort();
    const host = await startTestHost({ settings: { VULNDB_DOWNLOAD: "true", OSV_BASE_URL: `http://127.0.0.1:${port}`, OSV_ECOSYSTEMS: "Debian", REDHAT_CPE_URL: "none" } });
    try {
      expect((await fetch(new URL("api/health", host.host.url), { headers: { "x-functions-key": host.readKey } })).status).toBe(200);
      expect(await host.host.services.vulndb.matcher()).toBeUndefined();
    } finally {
      await host.stop();
    }
  }, 120_000);

  it("with the download off, nothing is fetched", async () => {
    osvServer.fetched.length = 0;
    const refresher = new VulnDbRefresher({ ...refreshConfigFrom(loadSettings([{ SCANHOOK_DATA_DIR: join(t.dir, "off"), VULNDB_DOWNLOAD: "false" }])), osvBaseUrl: base }, new DirectoryBlobStore(join(t.dir, "off-blobs")));
    expect(await refresher.refresh({ info: () => undefined, warn: () => undefined, debug: () => undefined })).toEqual({ kind: "off" });
    expect(osvServer.paths()).toEqual([]);
  });
});

describe("in Azure (VULNDB_SOURCE=blob)", () => {
  const blobs = new DirectoryBlobStore(join(t.dir, "azure-blobs"));
  const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const config = (instance: string) => ({
    ...refreshConfigFrom(loadSettings([{ VULNDB_SOURCE: "blob", VULNDB_PATH: join(t.dir, instance, "vulndb.sqlite"), OSV_BASE_URL: base, OSV_ECOSYSTEMS: "Debian", REDHAT_CPE_URL: "none" }]))
  });

  it("each new version is published; another instance starts from it and fetches only what changed", async () => {
    gate = undefined;
    osvServer.publish("Debian", [advisory]);
    osvServer.fetched.length = 0;
    const first = await new VulnDbRefresher(config("one"), blobs).refresh(quiet);
    expect(first).toMatchObject({ kind: "built", published: true, records: 1 });
    expect(osvServer.paths()).toEqual(["/Debian/all.zip"]);
    const manifest = JSON.parse((await blobs.get(BLOB_CONTAINERS.vulndb, CURRENT_MANIFEST))?.toString() ?? "{}") as { version: string };
    expect(manifest.version).toBe(first.kind === "built" ? first.version : "");
    const served = await blobDbProvider(blobs, join(t.dir, "reader-cache")).matcher();
    expect(served?.dbVersion).toBe(manifest.version);

    // A second instance (empty /tmp) after one more advisory: it downloads the published DB and
    // fetches the CSV and the one new record, not the zip.
    const added = { ...osv("DSA-5501-1", "Debian:12", "openssl", [{ introduced: "0" }, { fixed: "3.0.11-1~deb12u2" }]), modified: "2024-05-02T00:00:00Z" };
    osvServer.publish("Debian", [advisory, added]);
    osvServer.fetched.length = 0;
    rmSync(join(t.dir, "two"), { recursive: true, force: true });
    const second = await new VulnDbRefresher(config("two"), blobs).refresh(quiet);
    expect(second).toMatchObject({ kind: "built", published: true, records: 2 });
    expect(osvServer.paths()).toEqual(["/Debian/modified_id.csv", "/Debian/DSA-5501-1.json"]);
    const provider = blobDbProvider(blobs, join(t.dir, "reader-cache"));
    expect((await provider.matcher())?.dbVersion).toBe(second.kind === "built" ? second.version : "");
  });
});
