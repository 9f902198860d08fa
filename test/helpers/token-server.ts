import { createSign, randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { createTestCertificate, type TestCertificate } from "./tls.js";

/**
 * A distribution token server for tests (https://distribution.github.io/distribution/spec/auth/token/
 * and the JWT form in https://distribution.github.io/distribution/spec/auth/jwt/): `GET
 * /token?service=…&scope=…` with optional Basic auth answers `{token, access_token, expires_in,
 * issued_at}`, a JWT signed RS256 by a throwaway certificate carried in the `x5c` header, which
 * the registry trusts through `auth.token.rootcertbundle`.
 *
 * Users listed get what they ask for; anonymous callers get only pulls, and only when
 * `anonymousPull` is set. Every request is recorded (whether it carried credentials, never
 * their value).
 */
export interface TokenServerOptions {
  /** user name → password */
  readonly users?: Readonly<Record<string, string>>;
  readonly anonymousPull?: boolean;
  /** What the answer says in `expires_in` (the JWT itself stays valid for an hour). */
  readonly expiresInSeconds?: number;
  readonly service?: string;
  /** Serve HTTPS with this certificate instead of plain HTTP. */
  readonly tls?: TestCertificate;
  /** Host name to put in `realm` (default 127.0.0.1). */
  readonly realmHost?: string;
}

export interface TokenRequestRecord {
  readonly path: string;
  readonly withCredential: boolean;
  readonly username: string | undefined;
  readonly service: string | null;
  readonly scopes: readonly string[];
  readonly userAgent: string | undefined;
}

export interface TokenServer {
  /** `http(s)://<realmHost>:<port>/token` */
  readonly realm: string;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly port: number;
  readonly service: string;
  readonly issuer: string;
  /** PEM of the signing certificate: the registry's `rootcertbundle`. */
  readonly signingCertPath: string;
  readonly requests: TokenRequestRecord[];
  /** Mints a token directly (for pushing fixtures), without a request. */
  issue(subject: string, scopes: readonly string[]): string;
  stop(): Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function parseScope(scope: string): Access | undefined {
  // type:name:actions, where name may itself hold ':' (a port) — actions are after the last ':'.
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first < 0 || last <= first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(",").filter((a) => a !== "") };
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const signer = await createTestCertificate("scanhook-test-token-signer", []);
  const service = options.service ?? "scanhook-test-registry";
  const issuer = "scanhook-test-issuer";
  const requests: TokenRequestRecord[] = [];

  const issue = (subject: string, access: readonly Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [signer.certDerBase64] };
    const claims = { iss: issuer, sub: subject, aud: service, exp: now + 3600, nbf: now - 60, iat: now, jti: randomUUID(), access };
    const encode = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");
    const input = `${encode(header)}.${encode(claims)}`;
    const signature = createSign("RSA-SHA256").update(input).sign(signer.keyPem).toString("base64url");
    return `${input}.${signature}`;
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://token.test");
    const scopes = url.searchParams.getAll("scope").flatMap((s) => s.split(" ")).filter((s) => s !== "");
    const auth = req.headers.authorization;
    let username: string | undefined;
    let valid = false;
    if (auth?.startsWith("Basic ") === true) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      username = decoded.slice(0, colon);
      valid = options.users?.[username] !== undefined && options.users[username] === decoded.slice(colon + 1);
    }
    requests.push({ path: url.pathname, withCredential: auth !== undefined, username, service: url.searchParams.get("service"), scopes, userAgent: req.headers["user-agent"] });
    if (url.pathname !== "/token") {
      res.writeHead(404).end();
      return;
    }
    if (auth !== undefined && !valid) {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ details: "invalid credentials" }));
      return;
    }
    const access = scopes
      .map(parseScope)
      .filter((a): a is Access => a !== undefined)
      .map((a) => (valid ? a : { ...a, actions: options.anonymousPull === true && a.type === "repository" ? a.actions.filter((x) => x === "pull") : [] }))
      .filter((a) => a.actions.length > 0);
    const token = issue(username ?? "", access);
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({ token, access_token: token, expires_in: options.expiresInSeconds ?? 300, issued_at: new Date().toISOString() })
    );
  };

  const server = options.tls === undefined ? http.createServer(handler) : https.createServer({ key: options.tls.keyPem, cert: options.tls.certPem }, handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls === undefined ? "http" : "https";
  return {
    realm: `${scheme}://${options.realmHost ?? "127.0.0.1"}:${port}/token`,
    host: `127.0.0.1:${port}`,
    port,
    service,
    issuer,
    signingCertPath: signer.certPath,
    requests,
    issue: (subject, scopes) => issue(subject, scopes.map(parseScope).filter((a): a is Access => a !== undefined)),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await signer.remove();
    }
  };
}
