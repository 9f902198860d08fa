/**
 * CVSS base scores from vector strings, as the OSV `severity[].score` field carries them
 * (https://ossf.github.io/osv-schema/#severityscore-field).
 *
 * v3.0 and v3.1: the base equations of the CVSS v3.1 specification, section 7.1
 * (https://www.first.org/cvss/v3.1/specification-document), with its Roundup of Appendix A. v3.0
 * uses the same equations; its simpler round-up differs from 3.1's only in floating-point corner
 * cases, which 3.1's integer Roundup exists to remove, so both use it.
 *
 * Returns undefined for a vector that does not parse (a missing or repeated base metric, an
 * unknown value): the caller then falls back to the next severity source.
 */

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 }
} as const;
/** Privileges Required depends on Scope (spec table 16). */
const PR = { U: { N: 0.85, L: 0.62, H: 0.27 }, C: { N: 0.85, L: 0.68, H: 0.5 } } as const;

/** CVSS v3.1 Appendix A: round up to one decimal, computed on integers to avoid float drift. */
export function roundUp(value: number): number {
  const scaled = Math.round(value * 100_000);
  return scaled % 10_000 === 0 ? scaled / 100_000 : (Math.floor(scaled / 10_000) + 1) / 10;
}

function metrics(parts: readonly string[], names: readonly string[]): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of parts) {
    const colon = part.indexOf(":");
    if (colon <= 0) return undefined;
    const key = part.slice(0, colon);
    if (out.has(key)) return undefined;
    out.set(key, part.slice(colon + 1));
  }
  return names.every((n) => out.has(n)) ? out : undefined;
}

function pick<T extends Record<string, number>>(table: T, key: string | undefined): number | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key as keyof T] : undefined;
}

/** The base score of a `CVSS:3.0/…` or `CVSS:3.1/…` vector, or undefined. */
export function cvss3BaseScore(vector: string): number | undefined {
  const parts = vector.trim().split("/");
  const head = parts.shift();
  if (head !== "CVSS:3.0" && head !== "CVSS:3.1") return undefined;
  const m = metrics(parts, ["AV", "AC", "PR", "UI", "S", "C", "I", "A"]);
  if (m === undefined) return undefined;
  const scope = m.get("S");
  if (scope !== "U" && scope !== "C") return undefined;
  const av = pick(WEIGHTS.AV, m.get("AV"));
  const ac = pick(WEIGHTS.AC, m.get("AC"));
  const pr = pick(PR[scope], m.get("PR"));
  const ui = pick(WEIGHTS.UI, m.get("UI"));
  const c = pick(WEIGHTS.CIA, m.get("C"));
  const i = pick(WEIGHTS.CIA, m.get("I"));
  const a = pick(WEIGHTS.CIA, m.get("A"));
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined || c === undefined || i === undefined || a === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === "U" ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15);
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  return scope === "U" ? roundUp(Math.min(impact + exploitability, 10)) : roundUp(Math.min(1.08 * (impact + exploitability), 10));
}

/** The qualitative rating of a base score (CVSS v3.1 and v4.0 table "Qualitative severity rating scale"). */
export function ratingOf(score: number): "critical" | "high" | "medium" | "low" | "negligible" {
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  if (score >= 0.1) return "low";
  // CVSS calls 0.0 "None"; scanhook's scale has no "none", and negligible is its nearest.
  return "negligible";
}
