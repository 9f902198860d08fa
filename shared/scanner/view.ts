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
 */

export interface LayerForView {
  readonly layer: Digest | undefined;
  readonly changes: LayerChanges;
  readonly result: AnalyzerLayerResult;
}

type Current = { readonly kind: "file"; readonly version: number } | { readonly kind: "link"; readonly target: string };

const MAX_HOPS = 8;

export function buildView(layers: readonly LayerForView[]): { versions: FileVersion<unknown>[]; warnings: string[] } {
  const all: { path: string; layerIndex: number; layer: Digest | undefined; value: unknown }[] = [];
  const current = new Map<string, Current>();
  const warnings: string[] = [];
  layers.forEach((l, layerIndex) => {
    for (const dir of l.changes.opaqueDirs) {
      for (const path of [...current.keys()]) if (path !== dir && isUnder(path, dir)) current.delete(path);
    }
    for (const gone of l.changes.whiteouts) {
      for (const path of [...current.keys()]) if (isUnder(path, gone)) current.delete(path);
    }
    for (const f of l.result.files) {
      all.push({ path: f.path, layerIndex, layer: l.layer, value: f.value });
      current.set(f.path, { kind: "file", version: all.length - 1 });
    }
    for (const link of l.result.links) current.set(link.path, { kind: "link", target: link.target });
  });

  const visible = new Set<number>();
  const linked: FileVersion<unknown>[] = [];
  for (const [path, c] of current) {
    if (c.kind === "file") {
      visible.add(c.version);
      continue;
    }
    let target: Current | undefined = c;
    let hops = 0;
    let at = path;
    while (target?.kind === "link" && hops < MAX_HOPS) {
      at = target.target;
      target = current.get(at);
      hops++;
    }
    const found = target?.kind === "file" ? all[target.version] : undefined;
    if (found === undefined) {
      warnings.push(`${path} links to ${at}, which is not a file scanhook read`);
      continue;
    }
    if (found.value !== null) linked.push({ ...found, path, visible: true });
  }
  const versions: FileVersion<unknown>[] = all
    .map((v, i) => ({ ...v, visible: visible.has(i) }))
    .filter((v) => v.value !== null);
  return { versions: [...versions, ...linked], warnings };
}
