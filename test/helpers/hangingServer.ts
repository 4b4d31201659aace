import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An AWS endpoint that takes the request and never answers: what a hung service looks like from
 * the client. `requests` counts what reached it (so a test can tell "never called" from "called
 * and abandoned"); `stop` drops the open connections.
 */
export interface HangingServer {
  url: string;
  requests: { target: string | undefined; at: number }[];
  stop(): Promise<void>;
}

export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  const requests: HangingServer['requests'] = [];
  const server = createServer((req: IncomingMessage) => {
    const target = req.headers['x-amz-target'];
    requests.push({ target: typeof target === 'string' ? target : undefined, at: Date.now() });
    req.resume(); // read the body, answer nothing
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
