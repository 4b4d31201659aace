import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EVENT_BOUNDS } from '../../functions/domain/eventBounds';
import { CliError, EXIT } from '../cli/output';
import { awsError, type Target } from '../cli/target';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import { html } from './html';
import { badRequest, deactivateAction, grantAction, licenseChange, redriveAction, replayAction, resendAction } from './pages/actions';
import { deadLetterPage, deadLettersPage } from './pages/deadLetters';
import { deliveriesPage, deliveryPage } from './pages/deliveries';
import { type Answer, type Flash, layout, notFoundPage, type RequestContext } from './pages/layout';
import { exportCsv, licensesPage } from './pages/licenses';
import { orderPage } from './pages/order';
import { overviewFigures, overviewPage } from './pages/overview';
import { searchPage } from './pages/search';
import { ConsoleSecurity, SECURITY_HEADERS } from './security';

/**
 * `keysmith console`: the operator's pages, served on 127.0.0.1 only, over the target the CLI
 * resolved (the local stack, or a deployed one with the operator's own credentials). Pages are
 * rendered on the server from the CLI's own operations; the security gates are in security.ts.
 */

export interface ConsoleOptions {
  target: Target;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default a random 256-bit token */
  token?: string;
  now?: () => Date;
}

export interface RunningConsole {
  /** `http://127.0.0.1:PORT/?token=…`: what the CLI prints. */
  url: string;
  port: number;
  /** The address it listens on: always 127.0.0.1. */
  address: string;
  token: string;
  close(): Promise<void>;
}

type Handler = (ctx: RequestContext) => Promise<Answer>;

const ROUTES: { method: 'GET' | 'POST'; path: RegExp; handler: Handler }[] = [
  { method: 'GET', path: /^\/$/, handler: overviewPage },
  { method: 'GET', path: /^\/overview\/figures$/, handler: overviewFigures },
  { method: 'GET', path: /^\/search$/, handler: searchPage },
  { method: 'GET', path: /^\/order\/([^/]+)\/([^/]+)$/, handler: orderPage },
  { method: 'POST', path: /^\/order\/([^/]+)\/([^/]+)\/resend$/, handler: resendAction },
  { method: 'POST', path: /^\/license\/([^/]+)\/change$/, handler: licenseChange },
  { method: 'GET', path: /^\/deliveries$/, handler: deliveriesPage },
  { method: 'GET', path: /^\/delivery\/([^/]+)\/([^/]+)$/, handler: deliveryPage },
  { method: 'POST', path: /^\/delivery\/([^/]+)\/([^/]+)\/replay$/, handler: replayAction },
  { method: 'GET', path: /^\/dlq$/, handler: deadLettersPage },
  { method: 'POST', path: /^\/dlq\/redrive$/, handler: redriveAction },
  { method: 'GET', path: /^\/dlq\/([^/]+)$/, handler: deadLetterPage },
  { method: 'POST', path: /^\/license\/([^/]+)\/deactivate$/, handler: deactivateAction },
  { method: 'GET', path: /^\/licenses$/, handler: licensesPage },
  { method: 'POST', path: /^\/licenses\/grant$/, handler: grantAction },
  { method: 'GET', path: /^\/licenses\/export\.csv$/, handler: exportCsv },
];

const STATIC: Record<string, { type: string; body: string }> = {
  '/static/console.css': { type: 'text/css; charset=utf-8', body: CONSOLE_CSS },
  '/static/console.js': { type: 'text/javascript; charset=utf-8', body: CONSOLE_JS },
};

/** A form larger than this is not one of the console's. */
const MAX_FORM_BYTES = 64 * 1024;
const MAX_FLASHES = 200;

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const security = new ConsoleSecurity(options.token);
  const now = options.now ?? (() => new Date());
  const flashes = new Map<string, Flash>();
  let port = 0;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', `keysmith console: ${(error as Error).message}\n`);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    } catch {
      return send(res, req, 400, 'text/plain; charset=utf-8', 'bad request target\n');
    }
    const verdict = security.check(req, url);
    if (!verdict.ok) return send(res, req, verdict.status, 'text/plain; charset=utf-8', `${verdict.reason}\n`, verdict.status === 405 ? { allow: 'GET, HEAD, POST' } : {});
    const extra: Record<string, string> = verdict.setCookie ? { 'set-cookie': verdict.setCookie } : {};
    const method = req.method === 'HEAD' ? 'GET' : (req.method as 'GET' | 'POST');

    const asset = STATIC[url.pathname];
    if (asset && method === 'GET') return send(res, req, 200, asset.type, asset.body, extra);
    if (url.pathname === '/favicon.ico') return send(res, req, 204, 'text/plain', '', extra);

    let params: string[] | undefined;
    const route = ROUTES.find((r) => {
      const m = r.path.exec(url.pathname);
      if (!m) return false;
      params = m.slice(1);
      return true;
    });
    const ctx: RequestContext = { target: options.target, url, form: new URLSearchParams(), params: [], now: now() };
    let answer: Answer;
    if (!route) answer = notFoundPage(`no page ${url.pathname}`);
    else if (route.method !== method)
      return send(res, req, 405, 'text/plain; charset=utf-8', `${url.pathname} takes ${route.method}\n`, { allow: route.method === 'GET' ? 'GET, HEAD' : 'POST', ...extra });
    else {
      try {
        ctx.params = params!.map((p) => decodeURIComponent(p));
      } catch {
        return send(res, req, 400, 'text/plain; charset=utf-8', 'bad percent-encoding in the path\n', extra);
      }
      // Ids are at most EVENT_BOUNDS.idBytes; a longer one names nothing, and DynamoDB would refuse the key.
      if (ctx.params.some((p) => Buffer.byteLength(p) > EVENT_BOUNDS.idBytes)) return send(res, req, 404, 'text/plain; charset=utf-8', 'no such id: too long\n', extra);
      if (method === 'POST') {
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (type !== 'application/x-www-form-urlencoded') return send(res, req, 415, 'text/plain; charset=utf-8', 'a form (application/x-www-form-urlencoded) is expected\n', extra);
        const body = await readBody(req, MAX_FORM_BYTES);
        if (body === undefined) return send(res, req, 413, 'text/plain; charset=utf-8', `a form is at most ${MAX_FORM_BYTES} bytes\n`, extra);
        ctx.form = new URLSearchParams(body);
      }
      answer = await route.handler(ctx).catch((error: unknown) => errorPage(error instanceof CliError ? error : awsError(error, `the ${options.target.label} did not answer as expected`)));
    }

    if (answer.kind === 'redirect') {
      let location = answer.location;
      if (answer.flash) {
        const id = randomBytes(9).toString('base64url');
        flashes.set(id, answer.flash);
        while (flashes.size > MAX_FLASHES) flashes.delete(flashes.keys().next().value!);
        location += `${location.includes('?') ? '&' : '?'}flash=${id}`;
      }
      return send(res, req, 303, 'text/plain; charset=utf-8', '', { location, ...extra });
    }
    if (answer.kind === 'text') {
      return send(res, req, answer.status, answer.type, answer.body, { ...(answer.filename ? { 'content-disposition': `attachment; filename="${answer.filename}"` } : {}), ...extra });
    }
    const flashId = url.searchParams.get('flash');
    const flash = flashId ? flashes.get(flashId) : undefined;
    if (flashId) flashes.delete(flashId);
    const page = layout(options.target, answer, flash, url.pathname === '/search' ? (url.searchParams.get('q') ?? '') : '');
    return send(res, req, answer.status ?? 200, 'text/html; charset=utf-8', page.text, extra);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: nothing else on the network can reach the console.
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as { address: string; port: number };
  port = bound.port;
  security.listening(port);
  return {
    url: `http://127.0.0.1:${port}/?token=${security.token}`,
    port,
    address: bound.address,
    token: security.token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A CLI error as the page a person can act on: bad input 400, not found 404, stack trouble 502/504. */
function errorPage(error: CliError): Answer {
  const status = error.exitCode === EXIT.usage ? 400 : error.exitCode === EXIT.notFound ? 404 : error.exitCode === EXIT.timeout ? 504 : error.exitCode === EXIT.unreachable ? 502 : 500;
  if (status === 400) return badRequest(error.message);
  return { kind: 'page', status, title: status === 404 ? 'Not found' : 'Error', body: html`<h1>${status === 404 ? 'Not found' : 'Something went wrong'}</h1><p id="error">${error.message}</p>` };
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
