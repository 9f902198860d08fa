/**
 * Where the vulnerability data comes from out of the box: the public OSV export
 * (https://google.github.io/osv.dev/data/) for every ecosystem the analyzers cover, and Red Hat's
 * content-set map (https://security.access.redhat.com/data/metrics/repository-to-cpe.json).
 */
export const DEFAULT_OSV_BASE_URL = "https://osv-vulnerabilities.storage.googleapis.com";
export const DEFAULT_REDHAT_CPE_URL = "https://security.access.redhat.com/data/metrics/repository-to-cpe.json";
/** Export directory names (OSV's base ecosystems; release suffixes are inside the records). */
export const DEFAULT_ECOSYSTEMS: readonly string[] = [
  "Debian",
  "Ubuntu",
  "Alpine",
  "Wolfi",
  "Chainguard",
  "Azure Linux",
  "Rocky Linux",
  "AlmaLinux",
  "SUSE",
  "openSUSE",
  "Red Hat",
  "npm",
  "PyPI",
  "Go",
  "Maven",
  "RubyGems",
  "NuGet",
  "Packagist",
  "crates.io"
];
/** The DB file name inside the data directory, and its blob name in `BLOB_CONTAINERS.vulndb`. */
export const DB_FILE_NAME = "vulndb.sqlite";
