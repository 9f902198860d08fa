import { compareDigits, compareStrings, defineComparator, invalid, ok, type Ordering, type Parsed } from "./types.js";

/**
 * Maven versions, ordered as Maven 3.8's `org.apache.maven.artifact.versioning.ComparableVersion`
 * orders them (https://maven.apache.org/pom.html#version-order-specification).
 *
 * The version is lower-cased and split into items at `.` and `-` and at every switch between
 * digits and letters; a `-` or a switch opens a nested list, and so does a qualifier that follows
 * other items in its list (`1.0.0.X1` reads as `1.0.0-X1`). Numbers compare numerically;
 * qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` < `snapshot` < `""` = `ga` =
 * `final` = `release` < `sp` < any other qualifier (those alphabetically), and `a1`, `b1`, `m1`
 * abbreviate `alpha-1`, `beta-1`, `milestone-1`. Trailing zeros and empty qualifiers are
 * dropped ("padding"), so `1` = `1.0` = `1-ga`.
 *
 * Maven orders any string, so only the empty string (no version at all) and strings with white
 * space or control characters (never a real version) are rejected.
 */
export type MavenItem =
  | { readonly kind: "int"; readonly value: string }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "list"; readonly items: readonly MavenItem[] };

export type MavenVersion = readonly MavenItem[];

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Readonly<Record<string, string>> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(""));

function qualifierKey(q: string): string {
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function stringItem(value: string, followedByDigit: boolean): MavenItem {
  let v = value;
  if (followedByDigit && v.length === 1) {
    if (v === "a") v = "alpha";
    else if (v === "b") v = "beta";
    else if (v === "m") v = "milestone";
  }
  return { kind: "string", value: ALIASES[v] ?? v };
}

function parseItem(isDigit: boolean, buf: string): MavenItem {
  return isDigit ? { kind: "int", value: buf.replace(/^0+/, "") || "0" } : stringItem(buf, false);
}

function isNull(item: MavenItem): boolean {
  switch (item.kind) {
    case "int":
      return item.value === "0";
    case "string":
      return qualifierKey(item.value) === RELEASE_INDEX;
    case "list":
      return item.items.length === 0;
  }
}

// ListItem.normalize(): drop trailing null items, stopping at the first non-null non-list item.
function normalize(items: MavenItem[]): void {
  for (let i = items.length - 1; i >= 0; i--) {
    const last = items[i];
    if (last === undefined) continue;
    if (isNull(last)) items.splice(i, 1);
    else if (last.kind !== "list") break;
  }
}

const isAsciiDigit = (c: string): boolean => c >= "0" && c <= "9";

export function parseMaven(input: string): Parsed<MavenVersion> {
  if (input === "") return invalid("empty version");
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(input)) return invalid("white space or control character in version");
  const version = input.toLowerCase();
  const root: MavenItem[] = [];
  let list = root;
  const lists: MavenItem[][] = [root];
  const open = (): void => {
    const items: MavenItem[] = [];
    list.push({ kind: "list", items });
    list = items;
    lists.push(items);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < version.length; i++) {
    const c = version.charAt(i);
    if (c === "." || c === "-") {
      list.push(i === start ? { kind: "int", value: "0" } : parseItem(isDigit, version.slice(start, i)));
      start = i + 1;
      if (c === "-") open();
    } else if (isAsciiDigit(c)) {
      if (!isDigit && i > start) {
        // Maven reads "1.0.0.X1" as "1.0.0-X1": a qualifier after other items opens a sublist.
        if (list.length > 0) open();
        list.push(stringItem(version.slice(start, i), true));
        start = i;
        open();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(parseItem(true, version.slice(start, i)));
        start = i;
        open();
      }
      isDigit = false;
    }
  }
  if (version.length > start) {
    if (!isDigit && list.length > 0) open();
    list.push(parseItem(isDigit, version.slice(start)));
  }
  for (let k = lists.length - 1; k >= 0; k--) {
    const l = lists[k];
    if (l !== undefined) normalize(l);
  }
  return ok(root);
}

// Item.compareTo(other), where `undefined` is Java's null (the padding of the shorter list).
function compareItem(a: MavenItem, b: MavenItem | undefined): Ordering {
  switch (a.kind) {
    case "int":
      if (b === undefined) return a.value === "0" ? 0 : 1;
      if (b.kind === "int") return compareDigits(a.value, b.value);
      return 1;
    case "string":
      if (b === undefined) return compareStrings(qualifierKey(a.value), RELEASE_INDEX);
      if (b.kind === "string") return compareStrings(qualifierKey(a.value), qualifierKey(b.value));
      return -1;
    case "list":
      if (b === undefined) {
        // Every item against nothing, not only the first (MNG-6964).
        for (const item of a.items) {
          const r = compareItem(item, undefined);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === "int") return -1;
      if (b.kind === "string") return 1;
      return compareLists(a.items, b.items);
  }
}

function compareLists(a: readonly MavenItem[], b: readonly MavenItem[]): Ordering {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const l = a[i];
    const r = b[i];
    const result: Ordering = l === undefined ? (r === undefined ? 0 : negate(compareItem(r, undefined))) : compareItem(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

const negate = (o: Ordering): Ordering => (o === 0 ? 0 : o < 0 ? 1 : -1);

export const compareMaven = (a: MavenVersion, b: MavenVersion): Ordering => compareLists(a, b);

export const maven = defineComparator<MavenVersion>({
  name: "maven",
  version: 1,
  spec: "https://maven.apache.org/pom.html#version-order-specification",
  parse: parseMaven,
  compare: compareMaven
});
