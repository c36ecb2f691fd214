/**
 * The soak of issue #13: predictions through the studio's real REST path (page `fetch` → service worker
 * → studio tab → inference worker) with a small log retention, sampling every N requests the tab's JS
 * heap, the inference worker's tensors (`GET api/metrics`) and the inference log's size. It reports, it
 * asserts nothing (tests/e2e/reliability-soak.e2e.ts is the short version that asserts).
 *
 *   npm run soak                                   # 50,000 predictions (about 10 minutes on 2 cores)
 *   npm run soak -- --requests 5000 --sample-every 500 --retention 1000 --no-build
 *
 * Builds the studio into dist/ first (unless --no-build), trains and promotes a small fastText model in
 * a fresh Chromium profile, prints a table and writes bench-results/soak-<time>.json (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { printTable } from '../bench/env';
import { openStudio } from '../../tests/e2e/harness';
import { prepareSentimentModel, runSoak, servingBackend, setLogRetentionRows, type SoakSample } from './driver';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '8' },
    'sample-every': { type: 'string', default: '2500' },
    retention: { type: 'string', default: '5000' },
    'invocations-every': { type: 'string', default: '5' },
    'no-build': { type: 'boolean', default: false },
  },
});

const positive = (name: string): number => {
  const value = args[name as keyof typeof args];
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`--${name} must be a non-negative integer, got ${String(value)}`);
  return n;
};

const requests = positive('requests');
const concurrency = Math.max(1, positive('concurrency'));
const sampleEvery = Math.max(1, positive('sample-every'));
const retention = positive('retention');
const invocationsEvery = positive('invocations-every');

const loadAverage = () => os.loadavg().map((n) => Math.round(n * 100) / 100);

if (!args['no-build']) {
  console.log('Building the studio into dist/ …');
  await build({ logLevel: 'warn' });
}
const loadBefore = loadAverage();
const studio = await openStudio();
try {
  console.log('Training and promoting a fastText sentiment model …');
  await prepareSentimentModel(studio);
  await setLogRetentionRows(studio, retention);
  await studio.goto('predict/api');
  console.log(`Soak: ${requests} predictions, ${concurrency} in flight, a sample every ${sampleEvery}, log retention ${retention} rows`);
  const header = ['requests', 'seconds', 'req/s', 'p50 ms', 'p95 ms', 'heap MB', 'numTensors', 'tensor KB', 'log rows', 'logged'];
  const row = (s: SoakSample) => [s.requests, s.seconds, s.rate, s.p50, s.p95, s.heapMB, s.numTensors, s.tensorKB, s.logRows, s.logged];
  const result = await runSoak(studio.page, {
    requests,
    concurrency,
    sampleEvery,
    invocationsEvery,
    onSample: (s) => console.log(row(s).join('\t')),
  });
  const { samples } = result;
  console.log();
  printTable(header, samples.map(row));
  const start = samples[0]!;
  const end = samples.at(-1)!;
  const summary = {
    requests: result.sent,
    answeredOk: result.ok,
    byRoute: result.byRoute,
    statuses: result.statuses,
    badAnswers: result.bad,
    seconds: Math.round(result.seconds),
    requestsPerSecond: Math.round(result.sent / result.seconds),
    backend: await servingBackend(studio.page),
    heapMB: { start: start.heapMB, end: end.heapMB, max: Math.max(...samples.map((s) => s.heapMB)) },
    numTensors: { start: start.numTensors, end: end.numTensors, max: Math.max(...samples.map((s) => s.numTensors)) },
    logRows: { retention, max: Math.max(...samples.map((s) => s.logRows)), end: end.logRows },
    // +1: the warm-up request before the first sample.
    loggedAll: end.logged === result.sent + 1,
    loadAverage: { before: loadBefore, after: loadAverage() },
  };
  console.log(JSON.stringify(summary, null, 2));
  const dir = join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options: { requests, concurrency, sampleEvery, retention, invocationsEvery }, machine: { cpus: os.cpus().length, platform: os.platform() }, summary, samples }, null, 2));
  console.log(`Wrote ${file}`);
} finally {
  await studio.close();
}
