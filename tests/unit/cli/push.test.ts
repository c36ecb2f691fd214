import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/errors';
import { freePort, missingServers, PUSHGATEWAY_BIN, startPushgateway, type Server } from '../monitoring/prometheus-servers';
import { removeTempDirs, runCli, tempDir, writeJson, writeTweetsCsv } from './fixtures';

/** The sample lines of one group on the gateway's own /metrics (what Prometheus scrapes from it). */
async function gatewaySamples(gateway: Server, name: string, job: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const samples: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{(.*)\\} (\\S+)$`).exec(line);
    if (match && match[1]!.includes(`job="${job}"`)) samples[match[1]!.replace(/,?(instance|job)="[^"]*"/g, '').replace(/^,/, '')] = Number(match[2]);
  }
  return samples;
}

it('refuses a --pushgateway that is not a gateway address before training, naming the option', async () => {
  const result = await runCli('train', '--task', 'sentiment', '--data', 'nope.csv', '--out', 'x.zip', '--pushgateway', 'ftp://gw');
  expect(result.code).toBe(EXIT.usage);
  expect(result.err).toContain('--pushgateway: only http:// and https:// addresses can be pushed to, got ftp:');
});

const missing = missingServers(PUSHGATEWAY_BIN);
if (missing) console.warn(`cli/push.test.ts${missing}`);

describe.skipIf(missing !== '')(`loupe train and gate --pushgateway, into Debian's Pushgateway${missing}`, () => {
  let gateway: Server;
  const dir = tempDir();
  beforeAll(async () => (gateway = await startPushgateway()), 20_000);
  afterAll(async () => {
    await gateway?.stop();
    removeTempDirs();
  });

  it('pushes the run\'s held-out metrics, then the gate\'s decision, each to its model\'s group', async () => {
    const tweets = writeTweetsCsv(dir);
    const config = writeJson(join(dir, 'train.json'), { earlyStopping: false, model: { architecture: 'fasttext', dim: 8 } });
    const out = join(dir, 'run', 'tweets.zip');
    const train = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', config, '--epochs', '1', '--name', 'tweets', '--out', out, '--pushgateway', gateway.url);
    expect(train.code, train.err).toBe(EXIT.ok);
    expect(train.json()).toMatchObject({ pushgateway: { ok: true, url: `${gateway.url}/metrics/job/loupe-train/model/tweets` } });
    const metrics = JSON.parse(readFileSync(join(dir, 'run', 'metrics.json'), 'utf8')) as { split: string; metrics: Record<string, number>; val: { metrics: Record<string, number> } };
    const pushed = await gatewaySamples(gateway, 'loupe_training_metric', 'loupe-train');
    expect(pushed[`metric="accuracy",model="tweets",split="test",version="1"`]).toBe(metrics.metrics.accuracy);
    expect(pushed[`metric="accuracy",model="tweets",split="val",version="1"`]).toBe(metrics.val.metrics.accuracy);

    const metricsFile = join(dir, 'run', 'metrics.json');
    const gate = await runCli('gate', '--candidate', metricsFile, '--production', metricsFile, '--out-dir', join(dir, 'gate'), '--pushgateway', gateway.url);
    // The same figures on both sides: not better, so production stays (exit 10), and the push says so.
    expect(gate.code, gate.err).toBe(EXIT.rejected);
    expect(gate.err).toContain(`pushed `);
    expect(await gatewaySamples(gateway, 'loupe_gate_passed', 'loupe-gate')).toMatchObject({ 'model="text-classification",split="test"': 0 });
    expect((await gatewaySamples(gateway, 'loupe_gate_metric', 'loupe-gate'))['metric="accuracy",model="text-classification",side="candidate"']).toBe(metrics.metrics.accuracy);
  }, 120_000);

  it('keeps the exit code of the command when the gateway is down, and says the push failed', async () => {
    const metricsFile = writeJson(join(dir, 'm.json'), { split: 'val', samples: 10, metrics: { accuracy: 0.9, macroF1: 0.9 }, task: 'sentiment', datasetVersion: 'd1' });
    const nobody = `http://127.0.0.1:${await freePort()}`;
    const gate = await runCli('gate', '--candidate', metricsFile, '--out-dir', join(dir, 'down'), '--pushgateway', nobody);
    expect(gate.code, gate.err).toBe(EXIT.ok);
    expect(gate.err).toContain(`warning: could not push metrics to ${nobody}/metrics/job/loupe-gate/model/text-classification: could not reach ${nobody} (ECONNREFUSED)`);
    expect(gate.json()).toMatchObject({ decision: 'promote', pushgateway: { ok: false, error: expect.stringContaining('ECONNREFUSED') } });
  });
});
