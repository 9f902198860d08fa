/**
 * Reads a package URL (https://github.com/package-url/purl-spec/blob/master/PURL-SPECIFICATION.rst):
 * `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>#<subpath>`. Returns undefined for anything
 * that is not one; never throws (percent-decoding errors included).
 */
export interface Purl {
  readonly type: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly version: string | undefined;
  readonly qualifiers: ReadonlyMap<string, string>;
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export function parsePurl(input: string): Purl | undefined {
  if (!input.startsWith("pkg:")) return undefined;
  let rest = input.slice(4).replace(/^\/+/, "");
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const qualifiers = new Map<string, string>();
  const q = rest.indexOf("?");
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split("&")) {
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const value = decode(pair.slice(eq + 1));
      if (value !== undefined && value !== "") qualifiers.set(pair.slice(0, eq).toLowerCase(), value);
    }
    rest = rest.slice(0, q);
  }
  let version: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at >= 0 && at > rest.lastIndexOf("/")) {
    version = decode(rest.slice(at + 1));
    if (version === undefined) return undefined;
    rest = rest.slice(0, at);
  }
  const parts = rest.split("/").filter((p) => p !== "");
  const type = parts.shift()?.toLowerCase();
  const rawName = parts.pop();
  if (type === undefined || rawName === undefined) return undefined;
  const name = decode(rawName);
  const ns = parts.map(decode);
  if (name === undefined || name === "" || ns.some((p) => p === undefined)) return undefined;
  return { type, namespace: ns.length === 0 ? undefined : ns.join("/"), name, version: version === "" ? undefined : version, qualifiers };
}
