import { spawn } from 'node:child_process';
import { CliError, EXIT, type Output, usageError } from '../output';
import type { Target } from '../target';

export interface ConsoleCommandOptions {
  port?: string;
  open: boolean;
}

/**
 * `keysmith console [--port P] [--no-open]`: prints ONE line on stdout, the URL with this launch's
 * token (`http://127.0.0.1:P/?token=…`), then serves until SIGINT or SIGTERM. Notes go to stderr.
 */
export async function consoleCommand(options: ConsoleCommandOptions, target: () => Promise<Target>, out: Output, stopped: Promise<void> = untilSignal()): Promise<void> {
  const port = options.port === undefined ? 0 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port must be a port number (0 picks a free one), not "${options.port}"`);
  const t = await target();
  const { startConsole } = await import('../../console/server');
  let running: Awaited<ReturnType<typeof startConsole>>;
  try {
    running = await startConsole({ target: t, port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} on 127.0.0.1 is in use; pick another with --port, or --port 0 for any free one`, EXIT.usage);
    throw error;
  }
  out.result({ url: running.url }, () => running.url);
  out.note(`keysmith console for the ${t.label}, on 127.0.0.1 only; Ctrl-C stops it. The URL carries this launch's token: do not share it.`);
  if (options.open) openBrowser(running.url, out);
  await stopped;
  await running.close();
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The desktop's browser, if there is one; a failure only leaves the URL to click. */
function openBrowser(url: string, out: Output): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => out.note('could not open a browser; open the URL above'));
    child.unref();
  } catch {
    out.note('could not open a browser; open the URL above');
  }
}
