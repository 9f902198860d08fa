import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DirectoryBlobStore } from "../../shared/blobs/directory-blobs.js";
import { loadProcessSettings } from "../../shared/config.js";
import { ScanhookError } from "../../shared/domain/errors.js";
import { createRegistryClient } from "../../shared/registry/index.js";
import { ANALYZERS, BlobLayerCache, indexImage, openImageSource, parsePlatforms, scanLimitsFrom, toCycloneDx, toSpdx } from "../../shared/scanner/index.js";
import type { Command } from "../command.js";

/**
 * `scanhook sbom <target>`: indexes an image and writes its SBOM — CycloneDX 1.5 (default), SPDX
 * 2.3, or scanhook's facts as JSON — to stdout or `--output`. Progress goes to stderr. Layers are
 * cached per layer in `SCAN_CACHE_DIR` unless `--no-cache`. Exit codes: 0 written, 1 the image
 * could not be indexed, 2 bad usage or settings.
 */
export const sbomCommand: Command = {
  name: "sbom",
  summary: "<target> [--format cyclonedx|spdx|json] [--output FILE] [--platform os/arch] [--no-cache]  index an image, write its SBOM",
  options: { format: { type: "string" }, output: { type: "string" }, platform: { type: "string" }, "no-cache": { type: "boolean" }, quiet: { type: "boolean" } },
  positionals: true,
  async run(values, positionals, { out, err, write }) {
    const target = positionals[0];
    if (target === undefined || positionals.length > 1) throw new ScanhookError("CLI.USAGE", "sbom takes one target: dir:<rootfs>, oci:<layout>[:tag], docker-archive:<tar> or <registry>/<repo>[:tag|@digest]");
    const format = typeof values.format === "string" ? values.format : "cyclonedx";
    if (!["cyclonedx", "spdx", "json"].includes(format)) throw new ScanhookError("CLI.USAGE", `--format must be cyclonedx, spdx or json (got ${format})`);
    const settings = loadProcessSettings();
    const limits = scanLimitsFrom(settings);
    const platforms = parsePlatforms(typeof values.platform === "string" ? values.platform : settings.SCAN_PLATFORMS);
    const registry = createRegistryClient(settings.registries, { limits: { manifestMaxBytes: settings.MANIFEST_MAX_BYTES } });
    const quiet = values.quiet === true;
    try {
      const source = await openImageSource(target, { limits, platforms, registry });
      const cache = values["no-cache"] === true ? undefined : new BlobLayerCache(new DirectoryBlobStore(settings.SCAN_CACHE_DIR ?? join(settings.SCANHOOK_DATA_DIR, "layer-cache")));
      const started = new Date();
      const index = await indexImage(source, {
        analyzers: ANALYZERS,
        limits,
        ...(cache === undefined ? {} : { cache }),
        onProgress: (e) => {
          if (!quiet) err(e.kind === "layer-cached" ? `layer ${e.index + 1}/${e.total}: cached` : `layer ${e.index + 1}/${e.total}: read ${e.bytes} bytes, ${e.entries} entries`);
        }
      });
      await source.close?.();
      if (!quiet) for (const w of index.warnings) err(`warning: ${w}`);
      const bom = toCycloneDx({ subject: source.name, digest: source.digest, facts: index.facts, distribution: index.distribution, analyzers: index.analyzers, indexedAt: started });
      const document =
        format === "spdx"
          ? toSpdx(bom)
          : format === "json"
            ? { subject: source.name, digest: source.digest, ...index.facts, packages: index.facts.packages.map(({ files: _files, ...p }) => p), analyzers: index.analyzers, warnings: index.warnings }
            : bom;
      const text = `${JSON.stringify(document, null, 2)}\n`;
      if (typeof values.output === "string") await writeFile(values.output, text);
      else if (write !== undefined) write(text);
      else out(text.trimEnd());
      if (!quiet) err(`${index.facts.packages.length} packages, ${index.layersRead} of ${source.layers.length} layers read`);
      return 0;
    } finally {
      registry.close();
    }
  }
};
