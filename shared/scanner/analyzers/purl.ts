/**
 * Package URLs (https://github.com/package-url/purl-spec/blob/master/PURL-SPECIFICATION.rst):
 * `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>`, each part percent-encoded, qualifiers
 * sorted by key, empty ones left out.
 */
function encode(part: string): string {
  // encodeURIComponent leaves `!*'()` alone; they are not in the spec's unreserved set, so escape them too.
  return encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function purl(type: string, namespace: string | undefined, name: string, version: string | undefined, qualifiers: Readonly<Record<string, string | undefined>> = {}): string {
  const ns = namespace === undefined || namespace === "" ? "" : `${namespace.split("/").map(encode).join("/")}/`;
  const q = Object.entries(qualifiers)
    .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${encode(v)}`)
    .join("&");
  return `pkg:${type}/${ns}${encode(name)}${version === undefined ? "" : `@${encode(version)}`}${q === "" ? "" : `?${q}`}`;
}

/**
 * Splits text into RFC 822-style stanzas (dpkg status, apk installed): blank lines separate
 * stanzas. Returns each stanza's lines with the line number it starts at.
 */
export function stanzas(text: string): { readonly line: number; readonly lines: readonly string[] }[] {
  const out: { line: number; lines: string[] }[] = [];
  let current: { line: number; lines: string[] } | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") {
      current = undefined;
      return;
    }
    if (current === undefined) {
      current = { line: i + 1, lines: [] };
      out.push(current);
    }
    current.lines.push(line);
  });
  return out;
}
