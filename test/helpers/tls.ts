import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificate {
  readonly keyPem: string;
  readonly certPem: string;
  /** The certificate as base64 DER, for a JWT `x5c` header. */
  readonly certDerBase64: string;
  readonly keyPath: string;
  readonly certPath: string;
  /** Removes the files; the PEM strings stay usable. */
  remove(): Promise<void>;
}

/**
 * A throwaway self-signed certificate (RSA 2048, valid two days) made with Debian's `openssl`:
 * for TLS test servers (subject alternative names `IP:127.0.0.1`, `DNS:localhost` by default)
 * and for signing registry tokens. Arguments are passed as an array, never through a shell.
 */
export async function createTestCertificate(commonName = "localhost", altNames: readonly string[] = ["IP:127.0.0.1", "DNS:localhost"]): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "scanhook-cert-"));
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", `/CN=${commonName}`];
  if (altNames.length > 0) args.push("-addext", `subjectAltName=${altNames.join(",")}`);
  await run("openssl", args);
  const [keyPem, certPem] = await Promise.all([readFile(keyPath, "utf8"), readFile(certPath, "utf8")]);
  const certDerBase64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  return { keyPem, certPem, certDerBase64, keyPath, certPath, remove: () => rm(dir, { recursive: true, force: true }) };
}
