/** A Cosmos-protocol server (`@vercel/cosmosdb-server`) on 127.0.0.1 for the duration of a test file. */
import { Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { createHttpsServer } from "@vercel/cosmosdb-server";

export interface CosmosTestServer {
  endpoint: string;
  /** Accepts the server's self-signed certificate. */
  agent: Agent;
  /** The `authorization` header of every request received, in order. */
  authorizations: string[];
  close(): Promise<void>;
}

export async function startCosmosServer(): Promise<CosmosTestServer> {
  const server = createHttpsServer();
  const authorizations: string[] = [];
  // Ahead of the server's own handler, which would otherwise answer first.
  server.prependListener("request", (req) => {
    authorizations.push(req.headers.authorization ?? "");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
  return {
    endpoint: `https://127.0.0.1:${port}`,
    agent,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      })
  };
}
