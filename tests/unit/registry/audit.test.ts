import { describe, expect, it } from 'vitest';
import { auditToCsv, auditToJson, bestMetrics, csvCell } from '../../../src/lib/registry/audit';
import { DEFAULT_GATE_RULES } from '../../../src/lib/registry/gate';
import { makeRegistry, registerInput, tableEvaluator } from './helpers';

async function history() {
  const registry = makeRegistry();
  await registry.register(registerInput({ metrics: { val_mae: 14, val_rmse: 16 } }));
  await registry.register(registerInput({ metrics: { val_mae: 11, val_rmse: 17 } }));
  await registry.register(registerInput({ metrics: { val_mae: 15, val_rmse: 14 } }));
  const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 17 }, 3: { mae: 15, rmse: 14 } });
  await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: 'ds-1', evaluate, evaluator: 'table' });
  await registry.promote({ name: 'coin-year', version: 2, evalDataVersion: 'ds-1', evaluate, evaluator: 'table' });
  await registry.promote({ name: 'coin-year', version: 3, evalDataVersion: 'ds-1', evaluate, evaluator: 'table' }).catch(() => {});
  await registry.rollback({ name: 'coin-year', version: 1, reason: '=HYPERLINK("http://evil")' });
  return registry;
}

describe('audit trail export', () => {
  it('exports every entry as JSON', async () => {
    const registry = await history();
    const rows = await registry.audit('coin-year');
    const parsed = JSON.parse(auditToJson(rows)) as { format: string; entries: unknown[] };
    expect(parsed.format).toBe('loupe-registry-audit');
    expect(parsed.entries).toEqual(JSON.parse(JSON.stringify(rows)));
  });

  it('exports CSV with both metric sets per decision, quoted and safe for spreadsheets', async () => {
    const registry = await history();
    const csv = auditToCsv(await registry.audit('coin-year'));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'time,model,kind,outcome,trigger,version,production_before,production_after,eval_data_version,evaluator,alias,rule,reason,candidate.mae,candidate.rmse,champion.mae,champion.rmse',
    );
    expect(lines).toHaveLength(1 + 7);
    const rejected = lines.find((l) => l.includes(',rejected,'))!;
    expect(rejected).toMatch(/,gate,rejected,manual,3,2,2,ds-1,table,,/);
    expect(rejected).toMatch(/,15,14,11,17$/); // candidate mae, rmse; champion mae, rmse
    expect(lines.at(-1)).toContain(`"Rolled back production from v2 to v1: =HYPERLINK(""http://evil"")"`);
  });

  it('neutralizes formula-looking text cells but keeps numbers', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('-cmd')).toBe("'-cmd");
    expect(csvCell(-1.5)).toBe('-1.5');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('best metrics', () => {
  it('names production, the best version by the primary metric, and the best value of each metric', async () => {
    const registry = await history();
    const best = bestMetrics('coin-year', await registry.versions('coin-year'), await registry.aliases('coin-year'), DEFAULT_GATE_RULES['coin-year'], 0);
    expect(best).toEqual({
      format: 'loupe-best-metrics',
      model: 'coin-year',
      generatedAt: '1970-01-01T00:00:00.000Z',
      primaryMetric: 'mae',
      production: { version: 1, metrics: { mae: 14, rmse: 16 } },
      best: { version: 2, status: 'archived', metrics: { mae: 11, rmse: 17 }, datasetVersion: 'ds-1' },
      perMetric: { mae: { value: 11, version: 2, greaterIsBetter: false }, rmse: { value: 14, version: 3, greaterIsBetter: false } },
    });
  });
});
