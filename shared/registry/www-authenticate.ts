/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1) as registries send them: `Basic realm="…"` for
 * htpasswd, `Bearer realm="…",service="…",scope="…"` for token auth
 * (https://distribution.github.io/distribution/spec/auth/token/, "How to authenticate").
 * A header may hold several challenges, and a response may carry several headers.
 */
export interface Challenge {
  /** Lowercase: `basic`, `bearer`, … */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;

/**
 * Parses every challenge in the header values; malformed tails are ignored rather than thrown,
 * since the caller only needs a usable challenge and reports "unauthorized" when none is found.
 */
export function parseChallenges(values: string | readonly string[] | undefined): Challenge[] {
  if (values === undefined) return [];
  const list = typeof values === "string" ? [values] : values;
  return list.flatMap(parseOne);
}

function parseOne(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skip = (): void => {
    while (i < header.length && (header[i] === " " || header[i] === "\t" || header[i] === ",")) i++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (m === null) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (i < header.length) {
    skip();
    const start = i;
    const name = token();
    if (name === undefined) break;
    let j = i;
    while (header[j] === " " || header[j] === "\t") j++;
    if (header[j] === "=" && current !== undefined) {
      // `name=value`: a parameter of the current challenge.
      i = j + 1;
      while (header[i] === " " || header[i] === "\t") i++;
      let value: string | undefined;
      if (header[i] === '"') {
        i++;
        let v = "";
        while (i < header.length && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < header.length) i++;
          v += header[i];
          i++;
        }
        i++;
        value = v;
      } else {
        // Unquoted: up to the next comma or blank, more lenient than RFC 7235's token (a scope
        // like `repository:a/b:pull` holds ':' and '/').
        const startValue = i;
        while (i < header.length && header[i] !== "," && header[i] !== " " && header[i] !== "\t") i++;
        value = i > startValue ? header.slice(startValue, i) : undefined;
      }
      if (value === undefined) break;
      current.params[name.toLowerCase()] = value;
      continue;
    }
    if (header[j] === "=" && current === undefined) break;
    // A new scheme; a token68 after it (`Negotiate abc==`) is not used by registries and skipped.
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
    i = start + name.length;
  }
  return out;
}
