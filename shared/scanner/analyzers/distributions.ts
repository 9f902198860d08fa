import type { CoverageGap } from "../../domain/image-record.js";
import type { Distribution } from "../analyzer.js";

/**
 * From os-release fields to the OSV ecosystem (https://ossf.github.io/osv-schema/#defined-ecosystems,
 * test/fixtures/schemas/osv-ecosystems.json) and to the end of the vendor's security support.
 * A distribution with no OSV ecosystem, or a release the rules below cannot name, gets no ecosystem
 * and a `distro-unknown` gap; one past the end of all its security support (LTS included, paid
 * extended support excluded) gets a `distro-eol` gap (DESIGN principle 5). Nothing is guessed.
 */

export interface OsRelease {
  readonly id: string;
  readonly idLike: readonly string[];
  readonly versionId: string | undefined;
  readonly version: string | undefined;
  readonly versionCodename: string | undefined;
  readonly prettyName: string | undefined;
}

/**
 * End of security support per release, from the vendors' own pages (checked 2026-11):
 * - Debian: https://wiki.debian.org/LTS (end of LTS)
 * - Ubuntu: https://ubuntu.com/about/release-cycle (end of standard support; ESM is paid, so not counted)
 * - Alpine: https://alpinelinux.org/releases/ (end of support of each branch)
 * - Azure Linux / CBL-Mariner: https://learn.microsoft.com/azure/azure-linux/support-cycle
 * - Rocky Linux: https://wiki.rockylinux.org/rocky/version/ ; AlmaLinux: https://wiki.almalinux.org/release-notes/
 * - Red Hat Enterprise Linux (and UBI, whose os-release says `rhel`): https://access.redhat.com/support/policy/updates/errata
 *   (end of Maintenance Support; Extended Life Cycle Support is paid, so not counted)
 * A release missing here is not called end-of-life (the table is added to as releases age).
 */
export const END_OF_SUPPORT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  debian: { "7": "2018-05-31", "8": "2020-06-30", "9": "2022-06-30", "10": "2024-06-30", "11": "2026-08-31", "12": "2028-06-30", "13": "2030-06-30" },
  ubuntu: {
    "14.04": "2019-04-30",
    "16.04": "2021-04-30",
    "18.04": "2023-05-31",
    "20.04": "2025-05-31",
    "22.04": "2027-06-30",
    "24.04": "2029-05-31",
    "22.10": "2023-07-20",
    "23.04": "2024-01-25",
    "23.10": "2024-07-11",
    "24.10": "2025-07-10",
    "25.04": "2026-01-15"
  },
  alpine: {
    "3.14": "2023-05-01",
    "3.15": "2023-11-01",
    "3.16": "2024-05-23",
    "3.17": "2024-11-22",
    "3.18": "2025-05-09",
    "3.19": "2025-11-01",
    "3.20": "2026-04-01",
    "3.21": "2026-11-01",
    "3.22": "2027-05-01"
  },
  azurelinux: { "3": "2027-07-31" },
  mariner: { "1": "2023-07-31", "2": "2025-07-31" },
  rocky: { "8": "2029-05-31", "9": "2032-05-31" },
  almalinux: { "8": "2029-03-01", "9": "2032-05-31" },
  rhel: { "6": "2020-11-30", "7": "2024-06-30", "8": "2029-05-31", "9": "2032-05-31", "10": "2035-05-31" }
};

function major(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^(\d+)/.exec(v);
  return m?.[1];
}

function majorMinor(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^(\d+\.\d+)/.exec(v);
  return m?.[1];
}

/** The OSV ecosystem and the key of `END_OF_SUPPORT`, or why there is none. */
function ecosystemOf(os: OsRelease): { ecosystem: string; release: string | undefined } | { reason: string } {
  switch (os.id) {
    case "debian": {
      const m = major(os.versionId);
      return m === undefined ? { reason: `Debian without a numeric VERSION_ID (${os.prettyName ?? "testing or unstable"})` } : { ecosystem: `Debian:${m}`, release: m };
    }
    case "ubuntu": {
      const r = majorMinor(os.versionId);
      if (r === undefined) return { reason: "Ubuntu without a VERSION_ID" };
      const lts = /\bLTS\b/.test(os.version ?? "") || /\bLTS\b/.test(os.prettyName ?? "");
      return { ecosystem: `Ubuntu:${r}${lts ? ":LTS" : ""}`, release: r };
    }
    case "alpine": {
      const r = majorMinor(os.versionId);
      // An edge or pre-release VERSION_ID (3.21_alpha20240807) is not a release branch.
      if (r === undefined || os.versionId === undefined || !/^\d+\.\d+(\.\d+)?$/.test(os.versionId)) return { reason: `Alpine ${os.versionId ?? "without a VERSION_ID"} is not a release branch` };
      return { ecosystem: `Alpine:v${r}`, release: r };
    }
    case "azurelinux": {
      const m = major(os.versionId);
      return m === undefined ? { reason: "Azure Linux without a VERSION_ID" } : { ecosystem: `Azure Linux:${m}`, release: m };
    }
    case "rocky": {
      const m = major(os.versionId);
      return m === undefined ? { reason: "Rocky Linux without a VERSION_ID" } : { ecosystem: `Rocky Linux:${m}`, release: m };
    }
    case "almalinux": {
      const m = major(os.versionId);
      return m === undefined ? { reason: "AlmaLinux without a VERSION_ID" } : { ecosystem: `AlmaLinux:${m}`, release: m };
    }
    case "rhel": {
      // Red Hat's records are per product stream (`Red Hat:enterprise_linux:9::baseos`), named by
      // the CPEs of the image's content sets, not by the release: the matcher scopes the packages.
      const m = major(os.versionId);
      return m === undefined ? { reason: "Red Hat Enterprise Linux without a VERSION_ID" } : { ecosystem: "Red Hat", release: m };
    }
    case "sles":
    case "sle-micro":
      return os.prettyName === undefined ? { reason: "SUSE without a PRETTY_NAME" } : { ecosystem: `SUSE:${os.prettyName}`, release: undefined };
    case "opensuse-leap":
    case "opensuse-tumbleweed":
    case "opensuse":
      return os.prettyName === undefined ? { reason: "openSUSE without a PRETTY_NAME" } : { ecosystem: `openSUSE:${os.prettyName}`, release: undefined };
    case "photon": {
      const r = majorMinor(os.versionId);
      return r === undefined ? { reason: "Photon OS without a VERSION_ID" } : { ecosystem: `Photon OS:${r}`, release: r };
    }
    case "mageia": {
      const m = major(os.versionId);
      return m === undefined ? { reason: "Mageia without a VERSION_ID" } : { ecosystem: `Mageia:${m}`, release: m };
    }
    case "wolfi":
      return { ecosystem: "Wolfi", release: undefined };
    case "chainguard":
      return { ecosystem: "Chainguard", release: undefined };
    case "mariner":
      return { reason: `CBL-Mariner ${os.versionId ?? ""} has no OSV ecosystem`.replace("  ", " ") };
    default:
      return { reason: `${os.prettyName ?? os.id} has no OSV ecosystem scanhook knows` };
  }
}

function eolKey(os: OsRelease): string | undefined {
  if (os.id === "mariner" || os.id === "azurelinux" || os.id === "debian" || os.id === "rocky" || os.id === "almalinux" || os.id === "rhel") return major(os.versionId);
  if (os.id === "ubuntu" || os.id === "alpine") return majorMinor(os.versionId);
  return undefined;
}

/** The distribution with its ecosystem, and the gaps it implies on `now`. */
export function classifyDistribution(os: OsRelease, now: Date): { distribution: Distribution; gaps: CoverageGap[] } {
  const mapped = ecosystemOf(os);
  const gaps: CoverageGap[] = [];
  const name = os.prettyName ?? `${os.id} ${os.versionId ?? ""}`.trim();
  if ("reason" in mapped) gaps.push({ kind: "distro-unknown", detail: mapped.reason });
  const key = eolKey(os);
  const end = key === undefined ? undefined : END_OF_SUPPORT[os.id]?.[key];
  if (end !== undefined && Date.parse(`${end}T23:59:59Z`) < now.getTime()) {
    gaps.push({ kind: "distro-eol", detail: `${name}: security support ended on ${end}` });
  }
  return {
    distribution: {
      id: os.id,
      versionId: os.versionId,
      prettyName: os.prettyName,
      ecosystem: "reason" in mapped ? undefined : mapped.ecosystem,
      purlDistro: os.versionId === undefined ? os.id : `${os.id}-${os.versionId}`
    },
    gaps
  };
}
