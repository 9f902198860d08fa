import { BlockList, isIP } from "node:net";
import { lookup as dnsLookup } from "node:dns/promises";
import { ScanhookError } from "../domain/errors.js";
import { findRegistry, type RegistryConfig } from "../domain/registries.js";

/**
 * The one place that decides whether scanhook may send a request to a URL, and whether that
 * request may carry the registry's credential (DESIGN principle 8: scanhook contacts only the
 * registries it is configured for and sends a credential only to the host it belongs to).
 *
 * Every request the registry adapters make goes through {@link RegistryGuard.check} (the OCI
 * client directly, the Azure SDK through the guarded `HttpClient` in `./http.ts`), so the rules
 * live here once:
 *
 * - a request scanhook starts (`origin`) goes only to a host listed in `REGISTRIES`, over HTTPS
 *   unless the entry says `plainHttp`; a listed host may resolve to a private address (private
 *   endpoints, a registry on 127.0.0.1);
 * - a token realm a registry names in its `WWW-Authenticate` challenge
 *   (https://distribution.github.io/distribution/spec/auth/token/) gets the registry's credential
 *   only when it is on the registry's own host or on a listed host; on any other host it gets an
 *   anonymous request over HTTPS, and none at all when the name resolves to a loopback,
 *   link-local, private or otherwise non-public address;
 * - a redirect (blob storage redirects are normal, OCI distribution spec "Pulling blobs") keeps
 *   the credential only on the very same host; to an unlisted host it is followed over HTTPS and
 *   only to a public address, like a realm.
 */

export type RequestPurpose = "origin" | "realm" | "redirect";

export interface GuardDecision {
  readonly url: URL;
  /** The listed registry the request goes to, when its host is listed. */
  readonly target: RegistryConfig | undefined;
  /** Whether the credential of the registry that led here may ride along. */
  readonly sendCredential: boolean;
  /**
   * When true, the name must resolve only to public addresses; the transport checks the
   * addresses it actually connects to (not a separate lookup), so a DNS answer cannot change
   * between the check and the connection.
   */
  readonly publicOnly: boolean;
}

export type LookupAddress = { address: string; family: number };
/** Resolves a host name to every address it has (tests inject one; the default is the OS's). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface GuardOptions {
  resolve?: Resolver;
  /**
   * Which addresses count as not public. Tests replace it to make a loopback server stand in for
   * a public host; production keeps the default, {@link isNonPublicAddress}.
   */
  isNonPublicAddress?: (address: string) => boolean;
}

const NON_PUBLIC = new BlockList();
// IPv4: "this network", RFC 1918, CGNAT, loopback, link-local (cloud metadata lives at
// 169.254.169.254), IETF protocol assignments, benchmarking, multicast and reserved.
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4]
] as const) {
  NON_PUBLIC.addSubnet(net, bits, "ipv4");
}
// IPv6: unspecified, loopback, unique local, link-local, site-local (deprecated), multicast.
NON_PUBLIC.addAddress("::", "ipv6");
NON_PUBLIC.addAddress("::1", "ipv6");
for (const [net, bits] of [
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8]
] as const) {
  NON_PUBLIC.addSubnet(net, bits, "ipv6");
}

/** Embedded IPv4 of an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address);
  if (m?.[1] !== undefined) return m[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return undefined;
}

/** True for loopback, link-local, private, CGNAT, multicast, unspecified and reserved addresses. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const v4 = isIP(bare) === 6 ? embeddedIpv4(bare) : undefined;
  if (v4 !== undefined) return NON_PUBLIC.check(v4, "ipv4");
  const family = isIP(bare);
  if (family === 4) return NON_PUBLIC.check(bare, "ipv4");
  if (family === 6) return NON_PUBLIC.check(bare, "ipv6");
  // Not an address at all: refuse rather than guess.
  return true;
}

/** `host[:port]` of a URL, lowercase, as `REGISTRIES` spells hosts (default ports dropped). */
export function hostOf(url: URL): string {
  return url.host.toLowerCase();
}

const defaultResolve: Resolver = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

export class RegistryGuard {
  readonly #registries: readonly RegistryConfig[];
  readonly #resolve: Resolver;
  readonly #isNonPublic: (address: string) => boolean;

  constructor(registries: readonly RegistryConfig[], options: GuardOptions = {}) {
    this.#registries = registries;
    this.#resolve = options.resolve ?? defaultResolve;
    this.#isNonPublic = options.isNonPublicAddress ?? isNonPublicAddress;
  }

  /** The listed entry for a host, or `REGISTRY.NOT_ALLOWED`: scanhook contacts nothing else. */
  registry(host: string): RegistryConfig {
    const found = findRegistry(this.#registries, host);
    if (found === undefined) {
      throw new ScanhookError("REGISTRY.NOT_ALLOWED", `registry ${host} is not listed in REGISTRIES`, {
        meta: { host },
        status: 403
      });
    }
    return found;
  }

  /** The base URL of a listed registry: `https://host`, or `http://host` when marked plain HTTP. */
  baseUrl(registry: RegistryConfig): URL {
    return new URL(`${registry.plainHttp ? "http" : "https"}://${registry.host}/`);
  }

  /**
   * Decides a request. `from` is the registry whose credential is in play: the one scanhook
   * asked (origin), whose challenge named the realm, or whose response redirected.
   */
  check(url: URL, purpose: RequestPurpose, from: RegistryConfig): GuardDecision {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw notAllowed(url, purpose, `scheme ${url.protocol} is not allowed`);
    }
    if (url.username !== "" || url.password !== "") {
      throw notAllowed(url, purpose, "URLs with user information are not followed");
    }
    const host = hostOf(url);
    const target = findRegistry(this.#registries, host);
    if (purpose === "origin") {
      if (target === undefined) throw notAllowed(url, purpose, `registry ${host} is not listed in REGISTRIES`);
      if (url.protocol === "http:" && !target.plainHttp) throw notAllowed(url, purpose, `plain HTTP is not allowed for ${host}`);
      return { url, target, sendCredential: target.host === from.host, publicOnly: false };
    }
    if (target !== undefined) {
      if (url.protocol === "http:" && !target.plainHttp) throw notAllowed(url, purpose, `plain HTTP is not allowed for ${host}`);
      const sendCredential = purpose === "realm" ? true : target.host === from.host;
      return { url, target, sendCredential, publicOnly: false };
    }
    if (url.protocol !== "https:") throw notAllowed(url, purpose, `${purpose} on unlisted host ${host} must use HTTPS`);
    return { url, target: undefined, sendCredential: false, publicOnly: true };
  }

  /**
   * The addresses to connect to for a decision: the name resolved once (an IP literal as it
   * is), and for a `publicOnly` decision checked, so the caller connects to exactly what was
   * checked. Refused means no request at all: `REGISTRY.NOT_ALLOWED`.
   */
  async addressesFor(decision: GuardDecision): Promise<LookupAddress[]> {
    const hostname = decision.url.hostname.replace(/^\[|\]$/g, "");
    const literal = isIP(hostname);
    let addresses: LookupAddress[];
    if (literal !== 0) {
      addresses = [{ address: hostname, family: literal }];
    } else {
      try {
        addresses = await this.#resolve(hostname);
      } catch (cause) {
        throw new ScanhookError("REGISTRY.UNREACHABLE", `cannot resolve ${hostname}`, { cause, meta: { host: hostname }, status: 502 });
      }
    }
    if (addresses.length === 0) {
      throw new ScanhookError("REGISTRY.UNREACHABLE", `${hostname} has no address`, { meta: { host: hostname }, status: 502 });
    }
    if (!decision.publicOnly) return addresses;
    const bad = addresses.find((a) => this.#isNonPublic(a.address));
    if (bad !== undefined) {
      throw notAllowed(decision.url, "realm or redirect", `${hostname} resolves to a non-public address (${bad.address}) and is not listed in REGISTRIES`);
    }
    return addresses;
  }
}

function notAllowed(url: URL, purpose: string, reason: string): ScanhookError {
  return new ScanhookError("REGISTRY.NOT_ALLOWED", `refused ${purpose} request to ${url.origin}: ${reason}`, {
    meta: { host: url.host, purpose },
    status: 403
  });
}

/** Size bounds for everything read from a registry into memory; blobs are streamed instead. */
export interface RegistryLimits {
  /** A manifest or index (the manifest size setting). */
  readonly manifestMaxBytes: number;
  /** A token endpoint's answer. */
  readonly tokenMaxBytes: number;
  /** The body of an error response (read only for its error code). */
  readonly errorMaxBytes: number;
  /** One page of a repository or tag listing. */
  readonly listPageMaxBytes: number;
}

export const DEFAULT_LIMITS: RegistryLimits = {
  // The OCI distribution spec lets registries refuse manifests over 4 MiB; ACR's limit is 4 MiB too.
  manifestMaxBytes: 4 * 1024 * 1024,
  tokenMaxBytes: 64 * 1024,
  errorMaxBytes: 16 * 1024,
  listPageMaxBytes: 4 * 1024 * 1024
};

export function tooLarge(what: string, limit: number, meta: Record<string, unknown> = {}): ScanhookError {
  return new ScanhookError("REGISTRY.TOO_LARGE", `${what} is larger than the limit of ${limit} bytes`, {
    meta: { ...meta, limit },
    status: 502
  });
}
