import type { Digest } from "../domain/digest.js";
import type { FileVersion } from "./analyzer.js";
import type { AnalyzerLayerResult, LayerChanges } from "./layer.js";
import { isUnder } from "./paths.js";

/**
 * Applies the layers in order, as a container runtime stacks them, to the files one analyzer
 * claimed: an upper file replaces a lower one, a whiteout deletes a path and everything below it,
 * an opaque directory hides what lower layers had in it. Links resolve, inside the root, to the
 * claimed file they lead to (following at most 8 links). Returns every version of every claimed
 * path, each marked visible or not, plus warnings for links that lead nowhere known.
 *
 * Directory symlinks in the middle of a path resolve as a runtime extracting the layers would:
 * with `var/lib/rpm` → `usr/lib/sysimage/rpm` from a lower layer, an upper layer's
 * `var/lib/rpm/rpmdb.sqlite` (or its whiteout) lands on `usr/lib/sysimage/rpm/rpmdb.sqlite`, and a
 * link to `lib/os-release` finds `usr/lib/os-release` through merged-usr `lib` → `usr/lib`. Files
 * are identified by that resolved path; each version keeps the path its analyzer claimed.
 */

export interface LayerForView {
  readonly layer: Digest | undefined;
  readonly changes: LayerChanges;
  readonly result: AnalyzerLayerResult;
}

type Current = { readonly kind: "file"; readonly version: number } | { readonly kind: "link"; readonly target: string; readonly claimed: string };

const MAX_HOPS = 8;

/**
 * `path` with every directory symlink among its ancestors (not its last segment) replaced by its
 * target, at most `MAX_HOPS` times; a loop leaves the path as written.
 */
export function resolveParents(path: string, dirLinks: ReadonlyMap<string, string>): string {
  if (dirLinks.size === 0) return path;
  let segments = path.split("/");
  let hops = 0;
  for (let i = 1; i < segments.length; i++) {
    const target = dirLinks.get(segments.slice(0, i).join("/"));
    if (target === undefined) continue;
    if (++hops > MAX_HOPS) return path;
    segments = [...(target === "" ? [] : target.split("/")), ...segments.slice(i)];
    i = 0;
  }
  return segments.join("/");
}

function dropUnder<V>(map: Map<string, V>, dir: string, includingDir: boolean): void {
  for (const path of [...map.keys()]) if ((includingDir || path !== dir) && isUnder(path, dir)) map.delete(path);
}

export function buildView(layers: readonly LayerForView[]): { versions: FileVersion<unknown>[]; warnings: string[] } {
  const all: { path: string; layerIndex: number; layer: Digest | undefined; value: unknown }[] = [];
  const current = new Map<string, Current>();
  const dirLinks = new Map<string, string>();
  const warnings: string[] = [];
  layers.forEach((l, layerIndex) => {
    // This layer's entries go through the links of the layers below; its own links apply above it.
    const key = (path: string): string => resolveParents(path, dirLinks);
    // The opaque marker is an entry inside its directory, so the directory itself resolves too.
    for (const dir of l.changes.opaqueDirs.map((d) => (d === "" ? d : key(`${d}/.wh..wh..opq`).slice(0, -"/.wh..wh..opq".length)))) {
      dropUnder(current, dir, false);
      dropUnder(dirLinks, dir, false);
    }
    for (const gone of l.changes.whiteouts.map(key)) {
      dropUnder(current, gone, true);
      dropUnder(dirLinks, gone, true);
    }
    for (const f of l.result.files) {
      all.push({ path: f.path, layerIndex, layer: l.layer, value: f.value });
      const k = key(f.path);
      current.set(k, { kind: "file", version: all.length - 1 });
      dirLinks.delete(k);
    }
    for (const link of l.result.links) current.set(key(link.path), { kind: "link", target: link.target, claimed: link.path });
    const links = l.changes.symlinks.map((s) => [key(s.path), s.target] as const);
    for (const [path, target] of links) dirLinks.set(path, target);
  });

  const visible = new Set<number>();
  const linked: FileVersion<unknown>[] = [];
  for (const c of current.values()) {
    if (c.kind === "file") {
      visible.add(c.version);
      continue;
    }
    let target: Current | undefined = c;
    let hops = 0;
    let at = c.claimed;
    while (hops < MAX_HOPS) {
      let next: string | undefined;
      if (target?.kind === "link") next = target.target;
      else if (target === undefined) next = dirLinks.get(at); // a link no analyzer claimed, on the way
      if (next === undefined) break;
      at = resolveParents(next, dirLinks);
      target = current.get(at);
      hops++;
    }
    const found = target?.kind === "file" ? all[target.version] : undefined;
    if (found === undefined) {
      warnings.push(`${c.claimed} links to ${at}, which is not a file scanhook read`);
      continue;
    }
    if (found.value !== null) linked.push({ ...found, path: c.claimed, visible: true });
  }
  const versions: FileVersion<unknown>[] = all
    .map((v, i) => ({ ...v, visible: visible.has(i) }))
    .filter((v) => v.value !== null);
  return { versions: [...versions, ...linked], warnings };
}
