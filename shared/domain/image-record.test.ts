import { describe, expect, it } from "vitest";
import { parseDigest, type Digest } from "./digest.js";
import { isScanhookError, ScanhookError } from "./errors.js";
import { newImageRecord, parseImageRecord, withLocation, type ImageRecord } from "./image-record.js";

function digestOf(hexChar: string): Digest {
  const d = parseDigest(`sha256:${hexChar.repeat(64)}`);
  if (d === undefined) throw new Error("bad test digest");
  return d;
}

const NOW = new Date("2025-03-01T10:00:00.000Z");

function fullRecord(): ImageRecord {
  const base = withLocation(newImageRecord(digestOf("a"), NOW), {
    registry: "myacr.azurecr.io",
    repository: "team/api",
    tag: "1.2.3",
    pushedAt: NOW
  });
  return {
    ...base,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    kind: "image",
    platform: { os: "linux", architecture: "arm64", variant: "v8" },
    parentDigests: [digestOf("b")],
    scan: {
      state: "done",
      requestKind: "index",
      attempts: 1,
      lease: { owner: "worker-1", until: "2025-03-01T10:05:00.000Z" },
      lastError: { code: "REGISTRY.TIMEOUT", message: "first attempt timed out", at: "2025-03-01T10:01:00.000Z" },
      updatedAt: "2025-03-01T10:02:00.000Z"
    },
    result: {
      analyzers: { "os/dpkg": "1", "language/javascript/packagelockjson": "2" },
      sbom: { blob: "sboms/sha256/aa.cdx.json", mediaType: "application/vnd.cyclonedx+json", size: 1234 },
      packageCounts: { "Debian:12": 90, npm: 310 },
      findings: [
        {
          id: "DSA-5000-1",
          aliases: ["CVE-2024-0001"],
          upstreamIds: ["CVE-2024-0001"],
          severity: "high",
          score: 7.5,
          fixable: true,
          packageName: "libssl3",
          packageVersion: "3.0.11-1~deb12u2",
          purl: "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12",
          ecosystem: "Debian:12",
          sourcePackage: "openssl",
          fixedVersion: "3.0.13-1~deb12u1"
        }
      ],
      coverageGaps: [{ kind: "binary-unreadable", detail: "/usr/local/bin/app: stripped Go binary" }],
      indexedAt: "2025-03-01T10:02:00.000Z",
      dbVersion: "2025-03-01.1",
      matchedAt: "2025-03-01T10:02:00.000Z"
    },
    verdict: {
      overall: "deny",
      locations: [{ registry: "myacr.azurecr.io", repository: "team/api", verdict: "deny" }],
      policyVersion: "p-7",
      match: { dbVersion: "2025-03-01.1", matchedAt: "2025-03-01T10:02:00.000Z" },
      computedAt: "2025-03-01T10:02:01.000Z",
      validUntil: "2025-03-08T00:00:00.000Z"
    },
    lastScannedAt: "2025-03-01T10:02:00.000Z"
  };
}

function codeAndField(f: () => unknown): { code: string; field: unknown } {
  try {
    f();
  } catch (e) {
    if (e instanceof ScanhookError) return { code: e.code, field: e.meta["field"] };
    throw e;
  }
  throw new Error("expected a ScanhookError");
}

describe("image record", () => {
  it("a new record is queued for indexing, has no location and round-trips through the schema", () => {
    const r = newImageRecord(digestOf("a"), NOW);
    expect(r).toEqual({
      id: digestOf("a"),
      schemaVersion: 1,
      locations: [],
      locationKeys: [],
      scan: { state: "queued", requestKind: "index", attempts: 0, updatedAt: "2025-03-01T10:00:00.000Z" },
      firstSeenAt: "2025-03-01T10:00:00.000Z",
      deleted: false
    });
    expect(parseImageRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it("a record with every part filled survives a JSON round trip unchanged", () => {
    const r = fullRecord();
    expect(parseImageRecord(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it("names the digest and the first bad field", () => {
    const bad = { ...fullRecord(), scan: { ...fullRecord().scan, state: "sleeping" } };
    expect(() => parseImageRecord(bad)).toThrow(`image record ${digestOf("a")} is invalid at scan.state`);
    expect(codeAndField(() => parseImageRecord(bad))).toEqual({ code: "STORE.INVALID_DOCUMENT", field: "scan.state" });
  });

  it("rejects a finding that lacks a field of the compact index", () => {
    const r = fullRecord();
    const finding = { ...r.result?.findings[0], packageName: undefined };
    const bad = { ...r, result: { ...r.result, findings: [finding] } };
    expect(codeAndField(() => parseImageRecord(bad))).toEqual({
      code: "STORE.INVALID_DOCUMENT",
      field: "result.findings.0.packageName"
    });
  });

  it("rejects an id that is not a digest, an unknown schema version and non-objects", () => {
    expect(codeAndField(() => parseImageRecord({ ...fullRecord(), id: "latest" })).field).toEqual("id");
    expect(codeAndField(() => parseImageRecord({ ...fullRecord(), schemaVersion: 2 })).field).toEqual("schemaVersion");
    expect(() => parseImageRecord("x")).toThrow("image record (no id) is invalid at (document)");
    expect(isScanhookError(catchError(() => parseImageRecord(null)), "STORE.INVALID_DOCUMENT")).toEqual(true);
  });

  it("rejects times that are not ISO-8601 UTC", () => {
    expect(codeAndField(() => parseImageRecord({ ...fullRecord(), lastPulledAt: "yesterday" })).field).toEqual(
      "lastPulledAt"
    );
  });

  it("requires a skip reason for an artifact", () => {
    const artifact = { ...newImageRecord(digestOf("c"), NOW), kind: "artifact" };
    expect(codeAndField(() => parseImageRecord(artifact)).field).toEqual("skipReason");
    const skipped = { ...artifact, skipReason: "Helm chart", scan: { ...artifact.scan, state: "skipped" } };
    expect(parseImageRecord(skipped).skipReason).toEqual("Helm chart");
  });

  it("rejects locationKeys out of step with locations", () => {
    const r = fullRecord();
    expect(codeAndField(() => parseImageRecord({ ...r, locationKeys: [] })).field).toEqual("locationKeys");
  });

  it("withLocation adds locations and tags once and only moves times forward", () => {
    let r = newImageRecord(digestOf("d"), NOW);
    r = withLocation(r, { registry: "r1", repository: "a", tag: "1", pushedAt: new Date("2025-03-02T00:00:00Z") });
    r = withLocation(r, { registry: "r1", repository: "a", tag: "1", pushedAt: new Date("2025-03-01T00:00:00Z") });
    r = withLocation(r, { registry: "r1", repository: "a", tag: "latest" });
    r = withLocation(r, { registry: "r2", repository: "a", pulledAt: new Date("2025-03-03T00:00:00Z") });
    expect(r.locations).toEqual([
      {
        registry: "r1",
        repository: "a",
        tags: ["1", "latest"],
        firstPushedAt: "2025-03-01T00:00:00.000Z",
        lastPushedAt: "2025-03-02T00:00:00.000Z"
      },
      { registry: "r2", repository: "a", tags: [], lastPulledAt: "2025-03-03T00:00:00.000Z" }
    ]);
    expect(r.locationKeys).toEqual(["r1/a", "r2/a"]);
    expect(r.lastPushedAt).toEqual("2025-03-02T00:00:00.000Z");
    expect(r.lastPulledAt).toEqual("2025-03-03T00:00:00.000Z");
    expect(parseImageRecord(r)).toEqual(r);
  });

  it("withLocation leaves the original record alone", () => {
    const r = newImageRecord(digestOf("e"), NOW);
    withLocation(r, { registry: "r1", repository: "a", tag: "x" });
    expect(r.locations).toEqual([]);
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
