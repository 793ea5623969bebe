// A TCP forwarder bound to one explicit address (a namespace link's host end), relaying each
// connection to a loopback service. A student in its own network namespace cannot reach the root
// namespace's 127.0.0.1, and the room server stays bound to loopback: this is the one door, on our
// own veth address only. Signaling through it crosses the shaped veth like the media does.
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpForwarder {
  /** Address the forwarder listens on. */
  host: string;
  port: number;
  /** `host:port`. */
  authority: string;
  close(): Promise<void>;
}

export async function forwardTcp(listenHost: string, target: { host: string; port: number }): Promise<TcpForwarder> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const server: Server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    track(inbound);
    track(outbound);
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    // Either side ending or failing ends both: no half-open leftovers.
    const end = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", end).on("close", end);
    outbound.on("error", end).on("close", end);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, listenHost, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    host: listenHost,
    port,
    authority: `${listenHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
