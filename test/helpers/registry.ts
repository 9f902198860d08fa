import { execFile, spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";

/**
 * Debian's `docker-registry` (CNCF distribution 2.8, binary `/usr/bin/docker-registry`, `serve
 * <config.yml>`; the packaged example is /etc/docker/registry/config.yml) on 127.0.0.1 and a free
 * port, with its own temporary config and storage, for integration tests:
 *
 *   const registry = await startRegistry({ htpasswd: { user: "pw" } });
 *   afterAll(() => registry.stop());
 *
 * Auth is none, htpasswd (bcrypt, made by `htpasswd -B`) or token (a realm, e.g. from
 * ./token-server.ts). `notifications` points the registry's webhook at a URL with headers.
 * `stop()` kills the process and removes its files; every registry still running when the test
 * process exits is killed too, so a failed test leaves nothing behind.
 *
 * Note: this registry answers 404 for an OCI manifest unless `Accept` lists the OCI types.
 */
export interface RegistryOptions {
  /** user name → password */
  readonly htpasswd?: Readonly<Record<string, string>>;
  readonly token?: { readonly realm: string; readonly service: string; readonly issuer: string; readonly rootCertBundle: string };
  readonly notifications?: { readonly url: string; readonly headers?: Readonly<Record<string, string>> };
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`, as it goes into REGISTRIES. */
  readonly host: string;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The storage root (`docker/registry/v2/...` below it), for tests that tamper with blobs. */
  readonly storageDir: string;
  /** Path of a blob's bytes in storage. */
  blobPath(digest: string): string;
  /** What the registry logged so far. */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200 || res.status === 401) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), "scanhook-registry-"));
  const storageDir = join(dir, "storage");
  await mkdir(storageDir);
  let auth: Record<string, unknown> | undefined;
  if (options.htpasswd !== undefined) {
    const lines: string[] = [];
    for (const [user, password] of Object.entries(options.htpasswd)) {
      const { stdout } = await run("htpasswd", ["-Bbn", user, password]);
      lines.push(stdout.trim());
    }
    const path = join(dir, "htpasswd");
    await writeFile(path, `${lines.join("\n")}\n`);
    auth = { htpasswd: { realm: "scanhook-test", path } };
  } else if (options.token !== undefined) {
    auth = {
      token: { realm: options.token.realm, service: options.token.service, issuer: options.token.issuer, rootcertbundle: options.token.rootCertBundle }
    };
  }

  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = {
      version: 0.1,
      log: { level: "info", accesslog: { disabled: true }, formatter: "text" },
      storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true }, redirect: { disable: true } },
      http: { addr: `127.0.0.1:${port}`, secret: "scanhook-test-secret", headers: { "X-Content-Type-Options": ["nosniff"] } },
      ...(auth === undefined ? {} : { auth }),
      ...(options.notifications === undefined
        ? {}
        : {
            notifications: {
              endpoints: [
                {
                  name: "scanhook",
                  url: options.notifications.url,
                  headers: Object.fromEntries(Object.entries(options.notifications.headers ?? {}).map(([k, v]) => [k, [v]])),
                  timeout: "2s",
                  threshold: 3,
                  backoff: "250ms"
                }
              ]
            }
          })
    };
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, stringify(config));
    const logPath = join(dir, `registry-${attempt}.log`);
    const fd = openSync(logPath, "w");
    // setpriv (util-linux, always installed on Debian) makes the kernel kill the registry when the
    // test process dies, even by a signal that skips the exit handler below.
    const child = spawn("setpriv", ["--pdeathsig", "KILL", "--", "docker-registry", "serve", configPath], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    running.add(child);
    child.once("exit", () => running.delete(child));
    const url = `http://127.0.0.1:${port}`;
    if (await waitReady(url, child, 20_000)) {
      return {
        host: `127.0.0.1:${port}`,
        url,
        port,
        storageDir,
        blobPath: (digest) => {
          const [algorithm, hex] = digest.split(":");
          return join(storageDir, "docker/registry/v2/blobs", algorithm ?? "", (hex ?? "").slice(0, 2), hex ?? "", "data");
        },
        log: () => readFileSync(logPath, "utf8"),
        async stop() {
          if (child.exitCode === null) {
            const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
            await exited;
            clearTimeout(timer);
          }
          await rm(dir, { recursive: true, force: true });
        }
      };
    }
    // Most likely the port was taken between choosing and binding it: try another.
    child.kill("SIGKILL");
    const log = readFileSync(logPath, "utf8");
    if (!/address already in use/i.test(log) || attempt === 4) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start:\n${log.slice(-2000)}`);
    }
  }
  throw new Error("docker-registry did not start");
}
