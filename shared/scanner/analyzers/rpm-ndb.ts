import type { DbValues } from "./rpm-bdb.js";

/**
 * The header blobs of rpm's NDB database `Packages.db` (SUSE; rpm's `lib/backend/ndb/rpmpkg.c`),
 * little-endian throughout:
 * - bytes 0–31: magic `RpmP`, version 0, generation, the number of 4096-byte slot pages (@12),
 *   the next package index (@16);
 * - from byte 32 to the end of the slot pages, 16-byte slots: magic `Slot`, package index (0 =
 *   free), block offset and block count, in 16-byte blocks;
 * - at a slot's block offset, a blob: magic `BlbS`, package index, generation, length, then the
 *   header blob itself (and a tail rpm checks, which this reader does not need).
 * Slots or blobs that do not check out are warnings; the others are still returned.
 */

const PAGE = 4096;
const BLOCK = 16;
const magic = (s: string): number => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24);
const DB_MAGIC = magic("RpmP");
const SLOT_MAGIC = magic("Slot");
const BLOB_MAGIC = magic("BlbS");

export function readNdbBlobs(file: Buffer): DbValues {
  if (file.length < 32 || file.readInt32LE(0) !== DB_MAGIC) throw new Error("not an rpm NDB database (bad magic)");
  if (file.readUInt32LE(4) !== 0) throw new Error(`unsupported NDB version ${file.readUInt32LE(4)}`);
  const slotPages = file.readUInt32LE(12);
  const slotEnd = slotPages * PAGE;
  if (slotPages === 0 || slotEnd > file.length) throw new Error("NDB slot pages run past the file");
  const values: Buffer[] = [];
  const warnings: string[] = [];
  for (let at = 32; at + BLOCK <= slotEnd; at += BLOCK) {
    if (file.readInt32LE(at) !== SLOT_MAGIC) {
      warnings.push(`NDB slot at ${at}: bad magic`);
      continue;
    }
    const pkgIdx = file.readUInt32LE(at + 4);
    if (pkgIdx === 0) continue;
    const offset = file.readUInt32LE(at + 8) * BLOCK;
    const blocks = file.readUInt32LE(at + 12);
    if (offset + 16 > file.length || offset + blocks * BLOCK > file.length) {
      warnings.push(`NDB package ${pkgIdx}: blob outside the file`);
      continue;
    }
    if (file.readInt32LE(offset) !== BLOB_MAGIC || file.readUInt32LE(offset + 4) !== pkgIdx) {
      warnings.push(`NDB package ${pkgIdx}: bad blob header`);
      continue;
    }
    const length = file.readUInt32LE(offset + 12);
    if (offset + 16 + length > file.length || 16 + length > blocks * BLOCK) {
      warnings.push(`NDB package ${pkgIdx}: blob length ${length} runs past its blocks`);
      continue;
    }
    values.push(file.subarray(offset + 16, offset + 16 + length));
  }
  return { values, warnings };
}
