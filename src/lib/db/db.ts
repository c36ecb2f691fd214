import Dexie, { type DexieOptions, type EntityTable, type Table } from 'dexie';
import { coarseObservation, PER_REQUEST_TABLES } from './observation';
import { SCHEMA_VERSIONS, type SchemaVersion } from './schema';
import type {
  AlertRow,
  AlertRuleRow,
  EmbeddingRow,
  EvalPointRow,
  AliasRow,
  CheckpointRow,
  DatasetRow,
  GateDecisionRow,
  InferenceLogRow,
  MetricPointRow,
  ModelVersionRow,
  PipelineRow,
  PipelineRunRow,
  RollupRow,
  RunRow,
  SampleRow,
  SettingRow,
  SweepRow,
} from './types';

export const DB_NAME = 'loupe';

/** The one typed Dexie database. Every read and write of stored data goes through it. */
export class LoupeDb extends Dexie {
  datasets!: EntityTable<DatasetRow, 'id'>;
  samples!: EntityTable<SampleRow, 'id'>;
  runs!: EntityTable<RunRow, 'id'>;
  metricPoints!: EntityTable<MetricPointRow, 'id'>;
  checkpoints!: EntityTable<CheckpointRow, 'id'>;
  modelVersions!: EntityTable<ModelVersionRow, 'id'>;
  aliases!: Table<AliasRow, [string, string]>;
  inferenceLog!: EntityTable<InferenceLogRow, 'id'>;
  pipelines!: EntityTable<PipelineRow, 'id'>;
  pipelineRuns!: EntityTable<PipelineRunRow, 'id'>;
  alerts!: EntityTable<AlertRow, 'id'>;
  settings!: EntityTable<SettingRow, 'key'>;
  gateDecisions!: EntityTable<GateDecisionRow, 'id'>;
  rollups!: Table<RollupRow, [string, number]>;
  alertRules!: EntityTable<AlertRuleRow, 'id'>;
  evalPoints!: EntityTable<EvalPointRow, 'id'>;
  sweeps!: EntityTable<SweepRow, 'id'>;
  embeddings!: Table<EmbeddingRow, [string, string]>;

  /**
   * @param versions the schema history to declare; tests pass a prefix of it to write "old" databases.
   * @example const db = new LoupeDb(); await db.open();
   */
  constructor(name = DB_NAME, options: DexieOptions = {}, versions: readonly SchemaVersion[] = SCHEMA_VERSIONS) {
    super(name, options);
    for (const { version, stores, upgrade } of versions) {
      const declared = this.version(version).stores(stores);
      if (upgrade) declared.upgrade(upgrade);
    }
    // Live queries would otherwise keep one key range per logged prediction (see observation.ts).
    this.use(coarseObservation(PER_REQUEST_TABLES));
  }
}

let shared: LoupeDb | undefined;

/** The page's (or worker's) database connection; Dexie opens it on first use. */
export function getDb(): LoupeDb {
  shared ??= new LoupeDb();
  return shared;
}

/** Replaces the shared connection (the in-memory fallback, tests). */
export function setDb(db: LoupeDb): void {
  shared?.close();
  shared = db;
}

/** Names of all tables, for export and erase. */
export function tableNames(db: LoupeDb): string[] {
  return db.tables.map((t) => t.name);
}
