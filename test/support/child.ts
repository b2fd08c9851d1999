import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OWN_STORE_ENV, waitFor } from './services.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'seamwatch-test-'));
  const file = join(dir, 'seamwatch.yaml');
  writeFileSync(file, text);
  return file;
}

/** seamwatch as a real process, as an operator runs it: `seamwatch run --config f`. */
export class SeamwatchProcess {
  readonly child: ChildProcess;
  readonly port: number;
  output = '';

  constructor(configFile: string, port: number, env: Record<string, string> = {}) {
    this.port = port;
    this.child = spawn(process.execPath, [join(ROOT, 'src/cli/main.ts'), 'run', '--config', configFile], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...OWN_STORE_ENV, ...env, SEAMWATCH_HTTP_PORT: String(port), SEAMWATCH_LOG_LEVEL: 'info' },
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-500_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `seamwatch on port ${this.port} to be ready`,
      async () => {
        if (this.child.exitCode !== null) throw new Error(`seamwatch exited with ${this.child.exitCode}:\n${this.output}`);
        // Only once this child says it listens there: between freePort() and the child's bind,
        // another process may take the port, and its /readyz would answer for ours.
        if (!this.output.includes(`127.0.0.1:${this.port}"`)) return false;
        return (await fetch(`http://127.0.0.1:${this.port}/readyz`)).status === 200;
      },
      timeoutMs,
    );
  }

  /** Dies without any chance to flush or commit. */
  kill(): Promise<void> {
    return this.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((done) => {
      this.child.once('exit', () => done());
      this.child.kill(signal);
    });
  }
}
