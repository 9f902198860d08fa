/**
 * The indexer's entry points: the Scanner adapter for the `scan-requests` consumer, and what the
 * CLI needs to index an image from anywhere and render its SBOM.
 */
export { createScanner, sbomBlobName, type ScannerDeps } from "./scanner.js";
export { indexImage, type ImageIndex, type ImageSource, type IndexOptions, type IndexProgress, type SourceLayer } from "./indexer.js";
export { ANALYZERS } from "./analyzers/index.js";
export { checkAnalyzers, defineAnalyzer, type Analyzer, type AnalyzerOutput, type CombineContext, type Distribution, type Extraction, type FileVersion } from "./analyzer.js";
export { BlobLayerCache, WALKER_VERSION, type LayerCache } from "./cache.js";
export { DEFAULT_SCAN_LIMITS, scanLimitsFrom, type ScanLimits } from "./limits.js";
export { readLayer, type LayerScan } from "./layer.js";
export { toCycloneDx, CYCLONEDX_MEDIA_TYPE, type CycloneDxBom, type SbomInput } from "./sbom/cyclonedx.js";
export { toSpdx, SPDX_MEDIA_TYPE } from "./sbom/spdx.js";
export { parsePlatforms, platformMatches, type PlatformFilter } from "./sources/common.js";
export { openImageSource, type TargetOptions } from "./sources/target.js";
