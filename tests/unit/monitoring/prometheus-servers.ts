import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian's real Pushgateway and Prometheus, started by a test on free loopback ports with temporary
 * directories (scripts/ensure-deps.mjs installs them for `npm test`).
 */
export const PUSHGATEWAY_BIN = process.env.PUSHGATEWAY_BIN ?? '/usr/bin/prometheus-pushgateway';
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/** Why the tests that need the servers cannot run here ('' when they can). */
export function missingServers(...bins: string[]): string {
  const missing = bins.filter((bin) => !existsSync(bin));
  return missing.length ? ` — SKIPPED: ${missing.join(' and ')} not installed (apt-get install prometheus prometheus-pushgateway, or node scripts/ensure-deps.mjs --test)` : '';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes; throws with the last failure. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: nothing within ${timeoutMs / 1000} s${last ? ` (last: ${last instanceof Error ? last.message : String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface Server {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function start(name: string, bin: string, args: (port: number, dir: string) => string[]): Promise<Server> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `loupe-${name}-`));
  const child: ChildProcess = spawn(bin, args(port, dir), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await until(`${name} ready at ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${log}`);
      return (await fetch(`${url}/-/ready`)).ok ? true : undefined;
    });
  } catch (error) {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Pushgateway on a free loopback port, keeping its groups in memory. */
export function startPushgateway(): Promise<Server> {
  return start('pushgateway', PUSHGATEWAY_BIN, (port) => [`--web.listen-address=127.0.0.1:${port}`, '--log.level=warn']);
}

export interface Prometheus extends Server {
  /** An instant PromQL query through the HTTP API: each result's labels and value. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
}

/** A Prometheus that scrapes `target` (host:port) every second, as a team scrapes its gateway (`honor_labels`). */
export async function startPrometheus(target: string): Promise<Prometheus> {
  const server = await start('prometheus', PROMETHEUS_BIN, (port, dir) => {
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: pushgateway', '    honor_labels: true', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
    );
    return [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
  });
  return {
    ...server,
    async query(promql) {
      const response = await fetch(`${server.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
      return body.data!.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
