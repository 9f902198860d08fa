/* global URL, console */
// Records the real version strings the oracle tests compare, so that every run compares the same
// pairs. Run from the repository root on a machine with apt lists and Debian's `rpm`:
//   node test/versions/samples/record.mjs
// Sources: `apt-cache dumpavail` (Debian), the rpm databases in ../shared/fixtures/rpmdb read
// with Debian's rpm, and the package lists in /work/.library/env/packages/ (npm, PyPI, Maven,
// Go, NuGet and RubyGems versions as served by those registries). The sampling is seeded.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const lists = "/work/.library/env/packages";

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleOf(values, n, seed) {
  const unique = [...new Set(values)].filter((v) => v !== "" && !/[\s]/.test(v)).sort();
  const rnd = mulberry32(seed);
  for (let i = unique.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [unique[i], unique[j]] = [unique[j], unique[i]];
  }
  return unique.slice(0, n).sort();
}

function write(name, values) {
  writeFileSync(join(here, name), values.join("\n") + "\n");
  console.log(`${name}: ${values.length}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return r.stdout;
}

function tsvColumn(file, column, skipHeader = true) {
  const rows = readFileSync(join(lists, file), "utf8").split("\n");
  return rows.slice(skipHeader ? 1 : 0).map((r) => r.split("\t")[column] ?? "");
}

function versionLists(file, column) {
  return tsvColumn(file, column).flatMap((c) => c.replace(/\(.*?\)/g, " ").split(/\s+/)).filter((v) => /^[0-9vV]/.test(v));
}

// Debian: every Version field apt knows.
const debian = run("apt-cache", ["dumpavail"])
  .split("\n")
  .filter((l) => l.startsWith("Version: "))
  .map((l) => l.slice("Version: ".length).trim());
write("debian.txt", sampleOf(debian, 3000, 1));

// RPM: EVRs of the packages in the SQLite and Berkeley DB fixtures.
const rpmdb = [
  ["cbl-mariner-2.0/rpmdb.sqlite", "sqlite"],
  ["libuuid/Packages", "bdb_ro"]
];
const rpm = [];
for (const [file, backend] of rpmdb) {
  const dir = mkdtempSync(join(tmpdir(), "rpmdb-"));
  const src = join(here, "../../../../shared/fixtures/rpmdb", file);
  copyFileSync(src, join(dir, file.split("/")[1]));
  const out = run("rpm", ["--define", `_db_backend ${backend}`, "--dbpath", dir, "-qa", "--qf", "%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\n"]);
  for (const line of out.split("\n").filter(Boolean)) {
    const [e, v, r] = line.split("\t");
    rpm.push(`${e === "(none)" ? "" : `${e}:`}${v}-${r}`);
  }
}
write("rpm.txt", sampleOf(rpm, 100000, 2));

write("npm.txt", sampleOf(tsvColumn("npm.tsv", 1), 4000, 3));
write("pypi.txt", sampleOf(tsvColumn("pypi.tsv", 1), 4000, 4));
write(
  "maven.txt",
  sampleOf(
    [
      ...versionLists("maven-partial.tsv", 1),
      ...versionLists("maven-partial.tsv", 2),
      ...readFileSync(join(lists, "installed-python.txt"), "utf8")
        .split("\n")
        .filter((l) => l.startsWith("maven"))
        .map((l) => l.split("\t")[2] ?? "")
    ],
    4000,
    5
  )
);
write("go.txt", sampleOf([...versionLists("go-partial.tsv", 1), ...versionLists("go-partial.tsv", 2)], 4000, 6));
write("nuget.txt", sampleOf([...versionLists("nuget.tsv", 1), ...versionLists("nuget.tsv", 4)], 4000, 7));
write(
  "rubygems.txt",
  sampleOf(
    readFileSync(join(lists, "installed-langs.txt"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith("gem\t"))
      .map((l) => l.split("\t")[2] ?? ""),
    4000,
    8
  )
);
