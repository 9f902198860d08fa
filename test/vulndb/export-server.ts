import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { strToU8, zipSync } from "fflate";
import { assertValidOsv, osv } from "./support.js";

/**
 * A stand-in for the OSV bucket (and Red Hat's map, a DB mirror) on 127.0.0.1: the files the test
 * sets, 404 for the rest, and a log of what was fetched, so a test can assert what a download read.
 */
export class ExportServer {
  readonly files = new Map<string, Buffer>();
  readonly fetched: { path: string; bytes: number }[] = [];
  /** A request for a path this returns a promise for waits for it: the test decides when a download finishes. */
  hold: (path: string) => Promise<void> | undefined = () => undefined;
  private readonly server: Server;
  private url = "";

  constructor() {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const send = (): void => {
        const body = this.files.get(path);
        if (body === undefined) {
          res.writeHead(404).end();
          return;
        }
        this.fetched.push({ path, bytes: body.length });
        res.writeHead(200, { "content-length": body.length }).end(body);
      };
      const held = this.hold(path);
      if (held !== undefined) void held.then(send);
      else send();
    });
  }

  /** Listens on a free port; the base URL, `http://127.0.0.1:<port>`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  get base(): string {
    return this.url;
  }

  /** The paths fetched, in order. */
  paths(): string[] {
    return this.fetched.map((f) => f.path);
  }

  /** An ecosystem's directory as the export lays it out: `all.zip`, one JSON per record, `modified_id.csv` newest first. */
  publish(dir: string, records: Record<string, unknown>[]): void {
    this.files.set(`/${dir}/all.zip`, zipOf(records));
    for (const r of records) this.files.set(`/${dir}/${String(r.id)}.json`, Buffer.from(JSON.stringify(r)));
    const csv = [...records].sort((a, b) => (String(a.modified) < String(b.modified) ? 1 : -1)).map((r) => `${String(r.modified)},${String(r.id)}`);
    this.files.set(`/${dir}/modified_id.csv`, Buffer.from(`${csv.join("\n")}\n`));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A zip of records, one `<id>.json` each, as the export's `all.zip`. */
export function zipOf(records: readonly Record<string, unknown>[]): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(records.map((r) => [`${String(r.id)}.json`, strToU8(JSON.stringify(r))]))));
}

/** A valid OSV record affecting `name` from the start until `fixed`, last modified at `modified`. */
export function fixedRecord(id: string, ecosystem: string, name: string, modified: string, fixed: string): Record<string, unknown> {
  const r = { ...osv(id, ecosystem, name, [{ introduced: "0" }, { fixed }]), modified };
  assertValidOsv(r);
  return r;
}
