import { readFileSync } from "node:fs";
import fc from "fast-check";
import { sample } from "./oracle.js";

export type Pair = readonly [string, string];

/** The recorded real versions in `samples/<name>`, one a line. */
export function readSample(name: string): string[] {
  return readFileSync(sample(name), "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pairs drawn from real versions: every neighbour in sorted order (close versions, where the
 * corner cases are), every version with itself (unless `withSelf` is false), and `random`
 * seeded random pairs.
 */
export function pairsOf(versions: readonly string[], random: number, seed: number, withSelf = true): Pair[] {
  const sorted = [...versions].sort();
  const pairs: Pair[] = [];
  for (let i = 1; i < sorted.length; i++) pairs.push([sorted[i - 1] ?? "", sorted[i] ?? ""]);
  if (withSelf) for (const v of sorted) pairs.push([v, v]);
  const rnd = mulberry32(seed);
  for (let i = 0; i < random && sorted.length > 0; i++) {
    const a = sorted[Math.floor(rnd() * sorted.length)] ?? "";
    const b = sorted[Math.floor(rnd() * sorted.length)] ?? "";
    pairs.push([a, b]);
  }
  return pairs;
}

/** A seeded shuffle of a copy of `values`. */
export function mulberryShuffle<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  const rnd = mulberry32(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

/**
 * Generated pairs: a shared stem with two different tails built from `pieces`, so that the pair
 * differs exactly where the corner cases are. Seeded, so every run generates the same pairs.
 */
export function generatedPairs(
  stems: fc.Arbitrary<string>,
  pieces: readonly string[],
  count: number,
  seed: number,
  maxPieces = 4
): Pair[] {
  const tail = fc.array(fc.constantFrom(...pieces), { maxLength: maxPieces }).map((p) => p.join(""));
  return fc.sample(fc.tuple(stems, tail, tail), { seed, numRuns: count }).map(([s, a, b]) => [s + a, s + b] as const);
}

/** Versions built from pieces, for validity checks. */
export function generatedStrings(pieces: readonly string[], count: number, seed: number, maxPieces = 6): string[] {
  return fc.sample(
    fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: maxPieces }).map((p) => p.join("")),
    { seed, numRuns: count }
  );
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
