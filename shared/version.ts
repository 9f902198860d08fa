import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package root, found from this file whether it runs from source (tests) or from `dist/`
 * (npm start, Azure): the nearest folder up whose package.json is scanhook's.
 */
function findRoot(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "scanhook" && typeof pkg.version === "string") return { root: dir, version: pkg.version };
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  throw new Error("scanhook's package.json was not found above " + fileURLToPath(import.meta.url));
}

const found = findRoot();

export const PACKAGE_ROOT = found.root;
export const VERSION = found.version;
/** Every request scanhook makes to a registry carries it, so its own pulls can be told apart. */
export const USER_AGENT = `scanhook/${VERSION}`;
