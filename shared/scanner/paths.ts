/**
 * Paths inside an image root. Every path the indexer keeps is relative to the root, `/`-separated,
 * without `.`, `..` or empty segments (`etc/os-release`). Resolution happens lexically inside the
 * root, never on the host: an image cannot point scanhook at a file of the machine it runs on.
 */

/**
 * Normalises an archive path. Leading `/` and `./` are dropped (tar strips them too); a path whose
 * `..` climbs above the root is refused (undefined), since extracting it would write outside.
 */
export function normalizeEntryPath(path: string): string | undefined {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join("/");
}

/**
 * Where a symlink at `linkPath` pointing at `target` leads, inside the root: an absolute target is
 * taken from the image root, a relative one from the link's directory, and `..` stops at the root
 * (as it does in a chroot), so no target leaves the image.
 */
export function resolveLinkTarget(linkPath: string, target: string): string {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  const out = [...base];
  for (const segment of target.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join("/");
}

/** Whether `path` is `dir` or below it (`dir` normalised; `""` is the root). */
export function isUnder(path: string, dir: string): boolean {
  return dir === "" || path === dir || path.startsWith(`${dir}/`);
}
