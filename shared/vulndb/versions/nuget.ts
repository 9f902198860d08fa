import { compareDigits, compareStrings, defineComparator, invalid, ok, sign, type Ordering, type Parsed } from "./types.js";

/**
 * NuGet package versions, ordered as NuGet.Versioning's `VersionComparer.Default` orders
 * `NuGetVersion`s (https://learn.microsoft.com/nuget/concepts/package-versioning).
 *
 * SemVer 2.0.0 with NuGet's legacy leniency: one to four numeric parts (`2` = `2.0.0` =
 * `2.0.0.0`, the fourth being the legacy `Revision`), leading zeros allowed in them, each at most
 * Int32.MaxValue; surrounding white space trimmed. Release labels follow SemVer (non-empty
 * `[0-9A-Za-z-]` identifiers, no leading zero in a numeric one) but compare case-insensitively;
 * build metadata is checked and ignored.
 *
 * There is no NuGet on Debian, so no oracle runs here: the test replays the published
 * NuGet.Versioning unit-test vectors instead.
 */
export interface NuGetVersion {
  readonly parts: readonly [string, string, string, string];
  readonly labels: readonly string[];
}

const INT32_MAX = "2147483647";
const ID = "[0-9A-Za-z-]+";
const NUGET = new RegExp(`^([0-9]+(?:\\.[0-9]+){0,3})(?:-(${ID}(?:\\.${ID})*))?(?:\\+(${ID}(?:\\.${ID})*))?$`);

export function parseNuget(input: string): Parsed<NuGetVersion> {
  const m = NUGET.exec(input.trim());
  if (m === null) return invalid("not MAJOR[.MINOR[.PATCH[.REVISION]]][-LABELS][+METADATA]");
  const numbers = (m[1] ?? "").split(".");
  if (numbers.some((n) => compareDigits(n, INT32_MAX) > 0)) return invalid("a version part is above Int32.MaxValue");
  const labels = m[2] === undefined ? [] : m[2].split(".");
  if (labels.some((l) => /^0[0-9]+$/.test(l))) return invalid("numeric release label with a leading zero");
  const [a = "0", b = "0", c = "0", d = "0"] = numbers;
  return ok({ parts: [a, b, c, d], labels });
}

// A label that parses as an Int32 is numeric; NuGet compares the others ignoring case.
const isNumericLabel = (l: string): boolean => /^[0-9]+$/.test(l) && compareDigits(l, INT32_MAX) <= 0;

function compareLabel(a: string, b: string): Ordering {
  const an = isNumericLabel(a);
  const bn = isNumericLabel(b);
  if (an && bn) return compareDigits(a, b);
  if (an) return -1;
  if (bn) return 1;
  return compareStrings(a.toUpperCase(), b.toUpperCase());
}

export function compareNuget(a: NuGetVersion, b: NuGetVersion): Ordering {
  for (let i = 0; i < 4; i++) {
    const r = compareDigits(a.parts[i] ?? "0", b.parts[i] ?? "0");
    if (r !== 0) return r;
  }
  if (a.labels.length === 0) return b.labels.length === 0 ? 0 : 1;
  if (b.labels.length === 0) return -1;
  const n = Math.min(a.labels.length, b.labels.length);
  for (let i = 0; i < n; i++) {
    const r = compareLabel(a.labels[i] ?? "", b.labels[i] ?? "");
    if (r !== 0) return r;
  }
  return sign(a.labels.length - b.labels.length);
}

export const nuget = defineComparator<NuGetVersion>({
  name: "nuget",
  version: 1,
  spec: "https://learn.microsoft.com/nuget/concepts/package-versioning",
  parse: parseNuget,
  compare: compareNuget
});
