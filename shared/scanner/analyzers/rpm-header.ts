/**
 * RPM header blobs as package databases store them (rpm's `lib/header.c`; the on-disk layout is
 * described in https://rpm-software-management.github.io/rpm/manual/format_header.html): a
 * big-endian index count `il` and data length `dl`, `il` 16-byte index entries (tag, type,
 * offset, count), then `dl` bytes of data. Every offset and count is checked against the blob, so
 * a hostile header is an error, never an out-of-bounds read.
 */

export const RPMTAG = {
  name: 1000,
  version: 1001,
  release: 1002,
  epoch: 1003,
  arch: 1022,
  sourceRpm: 1044,
  dirIndexes: 1116,
  baseNames: 1117,
  dirNames: 1118,
  oldFileNames: 1027
} as const;

const TYPE = { int32: 4, string: 6, stringArray: 8, i18nString: 9 } as const;

/** rpm's own bounds (`hdrchkTags`, `hdrchkData`). */
const MAX_TAGS = 0xffff;
const MAX_DATA = 256 * 1024 * 1024;

export interface RpmHeaderFacts {
  readonly name: string;
  readonly version: string;
  readonly release: string;
  readonly epoch: number | undefined;
  readonly arch: string | undefined;
  readonly sourceRpm: string | undefined;
  readonly files: readonly string[];
}

interface Entry {
  readonly type: number;
  readonly offset: number;
  readonly count: number;
}

export class RpmHeaderError extends Error {}

function readStrings(data: Buffer, offset: number, count: number): string[] {
  const out: string[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    const end = data.indexOf(0, at);
    if (end === -1) throw new RpmHeaderError("string runs past the header's data");
    out.push(data.toString("utf8", at, end));
    at = end + 1;
  }
  return out;
}

/** Parses the facts scanhook needs from one header blob; throws RpmHeaderError when malformed. */
export function parseRpmHeader(blob: Buffer): RpmHeaderFacts {
  if (blob.length < 8) throw new RpmHeaderError("header shorter than its preamble");
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il === 0 || il > MAX_TAGS || dl > MAX_DATA) throw new RpmHeaderError(`implausible header sizes (${il} tags, ${dl} bytes)`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl > blob.length) throw new RpmHeaderError("header larger than its blob");
  const data = blob.subarray(dataStart, dataStart + dl);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = blob.readUInt32BE(at);
    const type = blob.readUInt32BE(at + 4);
    const offset = blob.readInt32BE(at + 8);
    const count = blob.readUInt32BE(at + 12);
    if (offset < 0 || offset > dl || count > dl + 1) throw new RpmHeaderError(`tag ${tag} points outside the header`);
    entries.set(tag, { type, offset, count });
  }
  const string = (tag: number): string | undefined => {
    const e = entries.get(tag);
    if (e === undefined) return undefined;
    if (e.type !== TYPE.string && e.type !== TYPE.i18nString && e.type !== TYPE.stringArray) throw new RpmHeaderError(`tag ${tag} is not a string`);
    return readStrings(data, e.offset, 1)[0];
  };
  const strings = (tag: number): string[] => {
    const e = entries.get(tag);
    if (e === undefined) return [];
    if (e.type !== TYPE.stringArray && e.type !== TYPE.string) throw new RpmHeaderError(`tag ${tag} is not a string array`);
    return readStrings(data, e.offset, e.count);
  };
  const int32s = (tag: number): number[] => {
    const e = entries.get(tag);
    if (e === undefined) return [];
    if (e.type !== TYPE.int32) throw new RpmHeaderError(`tag ${tag} is not an int32`);
    if (e.offset + e.count * 4 > dl) throw new RpmHeaderError(`tag ${tag} runs past the header's data`);
    return Array.from({ length: e.count }, (_, i) => data.readInt32BE(e.offset + i * 4));
  };
  const name = string(RPMTAG.name);
  const version = string(RPMTAG.version);
  const release = string(RPMTAG.release);
  if (name === undefined || version === undefined || release === undefined) throw new RpmHeaderError("header without name, version or release");
  const epoch = int32s(RPMTAG.epoch)[0];
  const baseNames = strings(RPMTAG.baseNames);
  const dirNames = strings(RPMTAG.dirNames);
  const dirIndexes = int32s(RPMTAG.dirIndexes);
  const files =
    baseNames.length > 0
      ? baseNames.map((b, i) => `${dirNames[dirIndexes[i] ?? -1] ?? ""}${b}`.replace(/^\//, ""))
      : strings(RPMTAG.oldFileNames).map((f) => f.replace(/^\//, ""));
  return { name, version, release, epoch, arch: string(RPMTAG.arch), sourceRpm: string(RPMTAG.sourceRpm), files };
}
