import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * A real Debian 12 root file system for exactness tests: `debootstrap --variant=minbase bookworm`
 * from Debian's apt repositories, built once and cached under `.cache/` in the repository
 * (gitignored; about 200 MB, about 30 s to build). debootstrap needs root: it runs as is when the
 * tests do, else through `sudo` as .ci/run does for apt.
 */

const run = promisify(execFile);
const root = new URL("../../.cache/", import.meta.url).pathname;
const MIRROR = process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian";

export async function debianRootfs(): Promise<string> {
  const dir = join(root, "debian-bookworm-minbase");
  if (existsSync(join(dir, "var/lib/dpkg/status"))) return dir;
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const args = ["--variant=minbase", "bookworm", tmp, MIRROR];
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? "debootstrap" : "sudo", asRoot ? args : ["debootstrap", ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
  // Another test process may have won the race: keep whichever landed first.
  if (existsSync(join(dir, "var/lib/dpkg/status"))) rmSync(tmp, { recursive: true, force: true });
  else renameSync(tmp, dir);
  return dir;
}
