import { writeFile } from "node:fs/promises";
import { ScanhookError } from "../../shared/domain/errors.js";
import { toCycloneDx, toSpdx } from "../../shared/scanner/index.js";
import { indexTarget } from "../index-target.js";
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
    const quiet = values.quiet === true;
    const { source, index, started } = await indexTarget(target, {
      ...(typeof values.platform === "string" ? { platform: values.platform } : {}),
      noCache: values["no-cache"] === true,
      ...(quiet ? {} : { progress: err })
    });
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
  }
};
