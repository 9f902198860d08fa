/**
 * Image records written the way the scan and match steps write them, for verdict tests that do
 * not wait for the real indexer and matcher.
 */
import { createHash } from "node:crypto";
import type { Digest } from "../../shared/domain/digest.js";
import { newImageRecord, withLocation, type CoverageGap, type Finding, type ImageRecord, type ScanResult } from "../../shared/domain/image-record.js";

export const T0 = new Date("2026-11-23T10:00:00.000Z");

export function digestOf(name: string): Digest {
  return `sha256:${createHash("sha256").update(name).digest("hex")}` as Digest;
}

export function finding(id: string, over: Partial<Finding> = {}): Finding {
  return {
    id,
    aliases: [],
    upstreamIds: [],
    severity: "high",
    fixable: true,
    packageName: "openssl",
    packageVersion: "3.0.11-1",
    purl: "pkg:deb/debian/openssl@3.0.11-1?arch=amd64",
    ecosystem: "Debian:12",
    fixedVersion: "3.0.13-1",
    ...over
  };
}

export function result(findings: Finding[], over: Partial<ScanResult> = {}, gaps: CoverageGap[] = []): ScanResult {
  return {
    analyzers: { "os/dpkg": "1" },
    sbom: { blob: "sboms/sha256/x.cdx.json", mediaType: "application/vnd.cyclonedx+json" },
    packageCounts: { deb: 100 },
    findings,
    coverageGaps: gaps,
    indexedAt: T0.toISOString(),
    dbVersion: "db-1",
    matchedAt: T0.toISOString(),
    ...over
  };
}

export interface RecordOptions {
  locations?: { registry: string; repository: string; tag?: string }[];
  result?: ScanResult;
  state?: ImageRecord["scan"]["state"];
  lastError?: { code: string; message: string };
  kind?: ImageRecord["kind"];
  skipReason?: string;
}

export function record(name: string, o: RecordOptions = {}): ImageRecord {
  let r = newImageRecord(digestOf(name), T0);
  for (const l of o.locations ?? [{ registry: "myacr.azurecr.io", repository: "team/api", tag: "v1" }]) {
    r = withLocation(r, { registry: l.registry, repository: l.repository, ...(l.tag === undefined ? {} : { tag: l.tag }), pushedAt: T0 });
  }
  const state = o.state ?? (o.result === undefined ? "queued" : "done");
  return {
    ...r,
    kind: o.kind ?? "image",
    ...(o.skipReason === undefined ? {} : { skipReason: o.skipReason }),
    scan: {
      state,
      requestKind: "index",
      attempts: 0,
      updatedAt: T0.toISOString(),
      ...(o.lastError === undefined ? {} : { lastError: { ...o.lastError, at: T0.toISOString() } })
    },
    ...(o.result === undefined ? {} : { result: o.result, lastScannedAt: o.result.indexedAt })
  };
}
