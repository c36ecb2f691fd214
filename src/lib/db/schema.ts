import type { Transaction } from 'dexie';
import type { TaskName } from './specs';

/**
 * Every schema Loupe has ever shipped, oldest first. Never edit a released entry: add a new one with an
 * upgrade function, so data written by an older version opens in a newer one (tested in db.test.ts).
 * Schema strings list indexed fields only.
 */
export interface SchemaVersion {
  version: number;
  stores: Record<string, string | null>;
  upgrade?: (tx: Transaction) => Promise<void>;
}

export const SCHEMA_VERSIONS: readonly SchemaVersion[] = [
  {
    version: 1,
    stores: {
      datasets: 'id, task, createdAt, parentId',
      samples: 'id, datasetId, hash',
      runs: 'id, status, task, createdAt, parentId, datasetVersion',
      metricPoints: '++id, [runId+step], runId',
      checkpoints: 'id, runId, [runId+epoch]',
      modelVersions: 'id, &[name+version], name, status, createdAt',
      aliases: '[name+alias], name',
      inferenceLog: '++id, [model+ts], ts',
      pipelines: 'id, model',
      pipelineRuns: 'id, pipelineId, status, startedAt',
      alerts: 'id, rule, state',
      settings: 'key',
    },
  },
  {
    // v2: training reads one split of one dataset at a time, and the log page filters by source.
    // Rows written by v1 had no `source` (everything came from the UI then); backfill it so the new
    // index sees every row.
    version: 2,
    stores: {
      samples: 'id, datasetId, hash, [datasetId+split]',
      inferenceLog: '++id, [model+ts], ts, source',
    },
    upgrade: async (tx) => {
      await tx
        .table('inferenceLog')
        .toCollection()
        .modify((row: { source?: string }) => {
          row.source ??= 'ui';
        });
    },
  },
  {
    // v3: the registry's audit trail (promotion-gate decisions, rollbacks, archives, alias moves),
    // browsed per model in time order. A new table: nothing to upgrade.
    version: 3,
    stores: {
      gateDecisions: 'id, name, [name+ts], ts',
    },
  },
  {
    // v4: monitoring answers charts from per-minute rollups and keeps alert rules and periodic
    // evaluation points; sweeps group trials; the text encoder caches embeddings per (encoder, text hash);
    // pipeline history is browsed per pipeline in time order. New tables and one new index: nothing to upgrade.
    version: 4,
    stores: {
      rollups: '[model+minute], model, minute',
      alertRules: 'id, model',
      evalPoints: '++id, [model+ts], ts',
      sweeps: 'id, status, createdAt',
      embeddings: '[encoder+hash], encoder',
      pipelineRuns: 'id, pipelineId, status, startedAt, [pipelineId+startedAt], model',
    },
  },
  {
    // v5: car damage became a preset of the generic image-classification task. Rows that name the
    // task get its new name (datasets also remember the preset, so titles and model names stay);
    // registered model *names* (`car-damage`) and saved model.json files are left as they are.
    version: 5,
    stores: { datasets: 'id, task, createdAt, parentId' },
    upgrade: (tx) => renameTask(tx, 'car-damage', 'image-classification'),
  },
  {
    // v6: sentiment became a preset of the generic text-classification task, the same way.
    version: 6,
    stores: { datasets: 'id, task, createdAt, parentId' },
    upgrade: (tx) => renameTask(tx, 'sentiment', 'text-classification'),
  },
  {
    // v7: a log row's answer no longer waits for its rollups, which follow in their own transaction and
    // remember the last row folded in (`ROLLUPS_FOLDED_THROUGH`). Every row written before was folded in
    // with it, so the mark starts at the log's last row. No new table or index (settings is declared as before).
    version: 7,
    stores: { settings: 'key' },
    upgrade: async (tx) => {
      const last = await tx.table('inferenceLog').toCollection().lastKey();
      if (typeof last === 'number') await tx.table('settings').put({ key: ROLLUPS_FOLDED_THROUGH, value: last });
    },
  },
];

/** Settings key of the id of the last inference log row counted in the rollups (0 or absent: none). */
export const ROLLUPS_FOLDED_THROUGH = 'rollupsFoldedThrough';

export const LATEST_SCHEMA_VERSION = SCHEMA_VERSIONS[SCHEMA_VERSIONS.length - 1]!.version;

/**
 * Renames a task in every row that names one; a dataset keeps the old name as its preset. Each
 * upgrade names its own rename: `RENAMED_TASKS` grows, and a released upgrade must not change.
 */
async function renameTask(tx: Transaction, from: string, to: TaskName): Promise<void> {
  const rename = (row: { task?: unknown }) => {
    if (row.task !== from) return false;
    row.task = to;
    return true;
  };
  await tx.table('datasets').toCollection().modify((row: { task?: unknown; preset?: string }) => {
    if (rename(row)) row.preset ??= from;
  });
  await tx.table('runs').toCollection().modify((row: { task?: unknown; params?: { task?: unknown } }) => {
    rename(row);
    if (row.params) rename(row.params);
  });
  for (const table of ['pipelines', 'inferenceLog', 'rollups']) await tx.table(table).toCollection().modify(rename);
  await tx.table('sweeps').toCollection().modify((row: { task?: unknown; definition?: { task?: unknown } }) => {
    rename(row);
    if (row.definition) rename(row.definition);
  });
  await tx.table('modelVersions').toCollection().modify((row: { tags?: { task?: unknown }; lineage?: { task?: unknown; params?: { task?: unknown } } }) => {
    if (row.tags) rename(row.tags);
    if (row.lineage) rename(row.lineage);
    if (row.lineage?.params) rename(row.lineage.params);
  });
}
