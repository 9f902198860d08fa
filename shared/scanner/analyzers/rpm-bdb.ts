/**
 * The values of a Berkeley DB hash database, as rpm ≤ 4.15 stores its `Packages` (RHEL/CentOS
 * 5–8, Amazon Linux 2), read without Berkeley DB. Layout (Berkeley DB's `dbinc/db_page.h`, also
 * described in https://docs.oracle.com/cd/E17276_01/html/programmer_reference/am_conf.html):
 * - page 0 is the hash metadata page: magic 0x061561 at byte 12 (its byte order is the file's),
 *   page size at byte 20;
 * - every page starts with a 26-byte header: `pgno`@8, `next_pgno`@16, `entries`@20 (u16),
 *   `hf_offset`@22 (u16), `type`@25; hash pages (type 2 or 13) then hold `entries` u16 offsets of
 *   items stored key, value, key, value…;
 * - an item is `H_KEYDATA` (1: the bytes follow, up to the previous item's offset) or
 *   `H_OFFPAGE` (3: `pgno`@4, total length@8, the bytes on a chain of overflow pages, type 7, each
 *   holding `hf_offset` bytes after its header).
 * Every page number, offset and length is checked; a chain that loops or runs out is a warning.
 * rpm's record under key 0 (its next header number) is left out.
 */

const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_HASH = 13;
const P_OVERFLOW = 7;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;

export interface DbValues {
  readonly values: Buffer[];
  readonly warnings: string[];
}

export function readBdbHashValues(file: Buffer): DbValues {
  const warnings: string[] = [];
  if (file.length < 512) throw new Error("not a Berkeley DB file: too short");
  const le = file.readUInt32LE(12) === HASH_MAGIC;
  if (!le && file.readUInt32BE(12) !== HASH_MAGIC) throw new Error("not a Berkeley DB hash database (bad magic)");
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const u16 = (at: number): number => (le ? file.readUInt16LE(at) : file.readUInt16BE(at));
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new Error(`implausible Berkeley DB page size ${pageSize}`);
  const pages = Math.floor(file.length / pageSize);

  const overflow = (first: number, total: number): Buffer | undefined => {
    const parts: Buffer[] = [];
    let got = 0;
    let pgno = first;
    const seen = new Set<number>();
    while (got < total) {
      if (pgno <= 0 || pgno >= pages || seen.has(pgno)) return undefined;
      seen.add(pgno);
      const base = pgno * pageSize;
      if (file[base + 25] !== P_OVERFLOW) return undefined;
      const len = Math.min(u16(base + 22), pageSize - PAGE_HEADER, total - got);
      parts.push(file.subarray(base + PAGE_HEADER, base + PAGE_HEADER + len));
      got += len;
      pgno = u32(base + 16);
    }
    return Buffer.concat(parts, total);
  };

  const values: Buffer[] = [];
  for (let p = 1; p < pages; p++) {
    const base = p * pageSize;
    const type = file[base + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(base + 20);
    if (PAGE_HEADER + entries * 2 > pageSize) {
      warnings.push(`Berkeley DB page ${p}: ${entries} entries do not fit`);
      continue;
    }
    const offsets = Array.from({ length: entries }, (_, i) => u16(base + PAGE_HEADER + i * 2));
    // Items are key, value pairs; values sit at odd positions.
    for (let i = 1; i < entries; i += 2) {
      const at = offsets[i] ?? 0;
      const end = offsets[i - 1] ?? pageSize;
      if (at < PAGE_HEADER || at >= pageSize || end > pageSize || end <= at) {
        warnings.push(`Berkeley DB page ${p}: item ${i} is out of bounds`);
        continue;
      }
      // rpm keeps its next header number under key 0: a counter, not a header.
      const keyAt = offsets[i - 1] ?? 0;
      const keyEnd = i >= 2 ? (offsets[i - 2] ?? pageSize) : pageSize;
      if (keyAt + 5 <= pageSize && file[base + keyAt] === H_KEYDATA && keyEnd - keyAt === 5 && file.readUInt32LE(base + keyAt + 1) === 0) continue;
      const itemType = file[base + at];
      if (itemType === H_KEYDATA) {
        values.push(file.subarray(base + at + 1, base + end));
      } else if (itemType === H_OFFPAGE) {
        if (at + 12 > pageSize) {
          warnings.push(`Berkeley DB page ${p}: item ${i} is out of bounds`);
          continue;
        }
        const total = u32(base + at + 8);
        const value = total > file.length ? undefined : overflow(u32(base + at + 4), total);
        if (value === undefined) warnings.push(`Berkeley DB page ${p}: item ${i}: broken overflow chain`);
        else values.push(value);
      }
    }
  }
  return { values, warnings };
}
