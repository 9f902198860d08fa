import { checkAnalyzers, type Analyzer } from "../analyzer.js";
import { apkAnalyzer } from "./apk.js";
import { dpkgAnalyzer } from "./dpkg.js";
import { osReleaseAnalyzer } from "./os-release.js";
import { rpmAnalyzer } from "./rpm.js";

/**
 * Every analyzer, once (STYLE practice 2): no registration by import side effects. Duplicate or
 * malformed names fail when this module loads. To add a package format, see the README checklist.
 */
export const ANALYZERS: readonly Analyzer[] = checkAnalyzers([osReleaseAnalyzer, dpkgAnalyzer, apkAnalyzer, rpmAnalyzer]);
