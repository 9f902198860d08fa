import { ScanhookError } from "../domain/errors.js";
import { limitError } from "./limits.js";

/**
 * A push parser for tar archives as image layers use them: POSIX ustar and pax
 * (https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html, "ustar Interchange Format"
 * and "pax Extended Header") and the GNU extensions for long names (`L`, `K`) and base-256 sizes
 * (https://www.gnu.org/software/tar/manual/html_node/Standard.html).
 *
 * It never buffers more than one header, one metadata record (bounded) or one collected file
 * (bounded by `maxFileBytes`): a body nobody asked for is skipped as it streams past. Paths are
 * reported exactly as the archive spells them; normalising them is the walker's job.
 *
 * Errors (`ScanhookError`): `LAYER.CORRUPT` (bad checksum, truncated archive, junk after a
 * header), `LAYER.TOO_MANY_ENTRIES`, `LAYER.PATH_TOO_LONG`.
 */

export type TarEntryType = "file" | "hardlink" | "symlink" | "directory" | "other";

export interface TarEntry {
  readonly path: string;
  readonly type: TarEntryType;
  readonly size: number;
  /** Link target for hard links and symlinks, as written. */
  readonly linkTarget: string;
  readonly mode: number;
  /** Where the entry's data starts in the archive (uncompressed), for readers with random access. */
  readonly dataOffset: number;
}

export interface TarHandler {
  /** Called for every entry; return true to receive the body of a regular file in `onFile`. */
  onEntry(entry: TarEntry): boolean;
  onFile(entry: TarEntry, body: Buffer): void;
}

export interface TarLimits {
  readonly maxEntries: number;
  readonly maxPathBytes: number;
}

/** Pax and GNU long-name records are metadata: a few KiB in practice, refused far beyond. */
const MAX_META_BYTES = 1024 * 1024;
const BLOCK = 512;

type State =
  | { kind: "header" }
  | { kind: "body"; entry: TarEntry; remaining: number; padding: number; chunks: Buffer[] | undefined }
  | { kind: "meta"; type: "pax" | "global" | "longname" | "longlink"; remaining: number; padding: number; chunks: Buffer[] }
  | { kind: "done" };

function corrupt(message: string): ScanhookError {
  return new ScanhookError("LAYER.CORRUPT", `layer is not a valid tar archive: ${message}`);
}

function cString(buf: Buffer, start: number, length: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString("utf8", start, end === -1 || end > start + length ? start + length : end);
}

function octalField(buf: Buffer, start: number, length: number, what: string): number {
  const first = buf[start] ?? 0;
  if ((first & 0x80) !== 0) {
    // GNU base-256: big-endian two's complement, high bit set. Negative sizes are junk.
    if ((first & 0x40) !== 0) throw corrupt(`negative ${what}`);
    let value = first & 0x3f;
    for (let i = 1; i < length; i++) {
      value = value * 256 + (buf[start + i] ?? 0);
      if (value > Number.MAX_SAFE_INTEGER) throw corrupt(`${what} out of range`);
    }
    return value;
  }
  const text = buf.toString("latin1", start, start + length).replace(/[\0 ]+$/, "").replace(/^[ ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`${what} is not an octal number`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  const stored = octalField(header, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old tars summed signed bytes; both are accepted, as GNU tar does.
  return stored === unsigned || stored === signed;
}

/** Parses one pax extended header record set: `"<len> <key>=<value>\n"` repeated. */
function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(data.toString("latin1", at, space));
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.length) throw corrupt("malformed pax record");
    const record = data.toString("utf8", space + 1, at + len - 1);
    const eq = record.indexOf("=");
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

export class TarParser {
  private state: State = { kind: "header" };
  private pending: Buffer | undefined;
  private entries = 0;
  private zeroBlocks = 0;
  private pax = new Map<string, string>();
  private global = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private bytes = 0;

  constructor(
    private readonly handler: TarHandler,
    private readonly limits: TarLimits
  ) {}

  /** Number of entries seen, metadata entries included. */
  get entryCount(): number {
    return this.entries;
  }

  /** After a header: how many body bytes (padding included) come next, and whether they are collected. */
  get pendingBody(): { readonly bytes: number; readonly collecting: boolean } | undefined {
    const state = this.state;
    if (state.kind === "body") return { bytes: state.remaining + state.padding, collecting: state.chunks !== undefined };
    if (state.kind === "meta") return { bytes: state.remaining + state.padding, collecting: true };
    return undefined;
  }

  /** Skips the body of the current entry without its bytes (random-access readers seek past it). */
  skipBody(): void {
    const state = this.state;
    if (state.kind !== "body" || state.chunks !== undefined) throw new Error("skipBody outside an uncollected body");
    this.bytes += state.remaining + state.padding;
    this.state = { kind: "header" };
  }

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    let buf = chunk;
    const bufStart = this.bytes - chunk.length - (this.pending?.length ?? 0);
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length) {
      const state = this.state;
      if (state.kind === "done") return; // what follows the end-of-archive marker is padding
      if (state.kind === "header") {
        if (buf.length - at < BLOCK) {
          this.pending = Buffer.from(buf.subarray(at));
          return;
        }
        this.header(buf.subarray(at, at + BLOCK), bufStart + at + BLOCK);
        at += BLOCK;
        continue;
      }
      if (state.remaining > 0) {
        const take = Math.min(state.remaining, buf.length - at);
        if (state.chunks !== undefined) state.chunks.push(Buffer.from(buf.subarray(at, at + take)));
        state.remaining -= take;
        at += take;
        if (state.remaining > 0) return;
      }
      if (state.padding > 0) {
        const take = Math.min(state.padding, buf.length - at);
        state.padding -= take;
        at += take;
        if (state.padding > 0) return;
      }
      this.finishBody(state);
    }
  }

  /** Call when the input ended; throws when it ended inside an entry. */
  end(): void {
    const state = this.state;
    if (state.kind === "done") return;
    if (state.kind === "header" && this.pending === undefined) {
      // Two zero blocks end an archive; one, or none after whole entries, is tolerated as GNU tar does.
      if (this.entries === 0 && this.zeroBlocks === 0 && this.bytes > 0) throw corrupt("no entries");
      return;
    }
    if (state.kind === "body" && state.remaining === 0) {
      this.finishBody(state);
      return;
    }
    throw corrupt("the archive is truncated");
  }

  private finishBody(state: Exclude<State, { kind: "header" } | { kind: "done" }>): void {
    this.state = { kind: "header" };
    if (state.kind === "body") {
      if (state.chunks !== undefined) this.handler.onFile(state.entry, Buffer.concat(state.chunks));
      return;
    }
    const data = Buffer.concat(state.chunks);
    if (state.type === "pax") this.pax = parsePax(data);
    else if (state.type === "global") this.global = new Map([...this.global, ...parsePax(data)]);
    else {
      const text = cString(data, 0, data.length);
      if (state.type === "longname") this.longName = text;
      else this.longLink = text;
    }
  }

  private header(block: Buffer, dataOffset: number): void {
    if (block.every((b) => b === 0)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) this.state = { kind: "done" };
      return;
    }
    if (this.zeroBlocks > 0) throw corrupt("data after an end-of-archive block");
    if (!checksumOk(block)) throw corrupt(`bad header checksum at entry ${this.entries + 1}`);
    this.entries++;
    if (this.entries > this.limits.maxEntries) throw limitError("LAYER.TOO_MANY_ENTRIES", "the number of entries in a layer", this.limits.maxEntries);

    const typeflag = String.fromCharCode(block[156] ?? 0);
    const size = octalField(block, 124, 12, "size");
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    const meta = typeflag === "x" ? "pax" : typeflag === "g" ? "global" : typeflag === "L" ? "longname" : typeflag === "K" ? "longlink" : undefined;
    if (meta !== undefined) {
      if (size > MAX_META_BYTES) throw corrupt(`a ${meta} record of ${size} bytes`);
      this.state = { kind: "meta", type: meta, remaining: size, padding, chunks: [] };
      return;
    }

    const ustar = block.toString("latin1", 257, 262) === "ustar";
    const prefix = ustar ? cString(block, 345, 155) : "";
    const rawName = cString(block, 0, 100);
    const path = this.pax.get("path") ?? this.global.get("path") ?? this.longName ?? (prefix === "" ? rawName : `${prefix}/${rawName}`);
    const linkTarget = this.pax.get("linkpath") ?? this.longLink ?? cString(block, 157, 100);
    const paxSize = this.pax.get("size");
    const realSize = paxSize !== undefined && /^[0-9]+$/.test(paxSize) ? Number(paxSize) : size;
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    if (Buffer.byteLength(path) > this.limits.maxPathBytes || Buffer.byteLength(linkTarget) > this.limits.maxPathBytes) {
      throw limitError("LAYER.PATH_TOO_LONG", "an entry path", this.limits.maxPathBytes, { path: path.slice(0, 200) });
    }
    const type: TarEntryType =
      typeflag === "0" || typeflag === "\0" || typeflag === "7"
        ? "file"
        : typeflag === "1"
          ? "hardlink"
          : typeflag === "2"
            ? "symlink"
            : typeflag === "5"
              ? "directory"
              : "other";
    const entry: TarEntry = { path, type, size: realSize, linkTarget, mode: octalField(block, 100, 8, "mode"), dataOffset };
    // Only regular files carry data that matters; links and directories have none (or junk).
    const bodySize = type === "hardlink" || type === "symlink" || type === "directory" ? (paxSize === undefined ? size : realSize) : realSize;
    const collect = this.handler.onEntry(entry) && type === "file";
    const bodyPadding = (BLOCK - (bodySize % BLOCK)) % BLOCK;
    if (bodySize === 0) {
      if (collect) this.handler.onFile(entry, Buffer.alloc(0));
      return;
    }
    this.state = { kind: "body", entry, remaining: bodySize, padding: bodyPadding, chunks: collect ? [] : undefined };
  }
}
