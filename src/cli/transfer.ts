import { exportEverything } from '$lib/backup';
import type { AliasRow, ModelVersionRow } from '$lib/db/types';
import { exportBundle, importBundle } from '$lib/registry/bundle';
import { ModelRegistry, PRODUCTION } from '$lib/registry/registry';
import { numberOption, optional, required, type Command } from './args';
import { parseBackup, restoreBackup, withBlobs, type BackupFile } from './backup-file';
import { BadFormatError, EXIT, UsageError } from './errors';
import { jsonText, readInputFile, writeOutput } from './files';
import { memoryDb } from './runtime';

/**
 * The version a backup's registry holds under `--model`/`--version`: with no model named, the backup
 * must hold exactly one; with no version, the production one, else the latest.
 */
export function pickVersion(backup: BackupFile, model: string | undefined, version: number | undefined): ModelVersionRow {
  const rows = (backup.tables.modelVersions ?? []) as ModelVersionRow[];
  const names = [...new Set(rows.map((r) => r.name))].sort();
  if (names.length === 0) throw new BadFormatError(`${backup.path} holds no registered models`);
  const name = model ?? (names.length === 1 ? names[0]! : undefined);
  if (!name) throw new UsageError(`${backup.path} holds several models (${names.join(', ')}); choose one with --model`);
  const versions = rows.filter((r) => r.name === name).sort((a, b) => a.version - b.version);
  if (versions.length === 0) throw new BadFormatError(`${backup.path} has no model "${name}"; it has ${names.join(', ')}`);
  const production = ((backup.tables.aliases ?? []) as AliasRow[]).find((a) => a.name === name && a.alias === PRODUCTION)?.version;
  const wanted = version ?? production ?? versions.at(-1)!.version;
  const row = versions.find((r) => r.version === wanted);
  if (!row) throw new BadFormatError(`${backup.path}: ${name} has no version ${wanted} (versions: ${versions.map((r) => r.version).join(', ')})`);
  return withBlobs(row, backup, `modelVersions ${name} v${wanted}`) as ModelVersionRow;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a model version of a studio backup as a model bundle',
  options: {
    backup: { type: 'string', short: 'b' },
    model: { type: 'string', short: 'm' },
    version: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  help: `Usage:
  loupe export --backup loupe-backup.zip --out model.zip [--model sentiment] [--version 3]

Takes a model out of a studio backup (Settings → Export everything) as the bundle the Registry exports
(model.json + shards, MLmodel, metrics, lineage, model card, checksums), so a model trained in the
browser can be gated, served or published from CI.

Options:
  -b, --backup <zip>   the studio backup (required)
  -m, --model <name>   the registered model (needed when the backup holds several)
      --version <n>    the version (default: the production one, else the latest)
  -o, --out <zip>      where to write the bundle (required)
  -h, --help           this help`,
  async run(values, io) {
    const path = required(values, 'backup');
    const out = required(values, 'out');
    const backup = parseBackup(await readInputFile(path, '--backup'), path);
    const row = pickVersion(backup, optional(values, 'model'), numberOption(values, 'version', { integer: true, min: 1 }));
    await writeOutput(out, await exportBundle(row));
    io.err(`wrote ${row.name} v${row.version} (${row.status}) to ${out}\n`);
    io.out(jsonText({ bundle: out, model: row.name, version: row.version, status: row.status }));
    return EXIT.ok;
  },
};

export const importBundleCommand: Command = {
  name: 'import-bundle',
  summary: 'add a model bundle to a studio backup as the next version of its model',
  options: {
    bundle: { type: 'string' },
    backup: { type: 'string', short: 'b' },
    name: { type: 'string' },
    out: { type: 'string', short: 'o' },
  },
  help: `Usage:
  loupe import-bundle --bundle model.zip --backup loupe-backup.zip --out loupe-backup-new.zip
  loupe import-bundle --bundle model.zip --out loupe-backup.zip      # a new backup with just this model

Registers a bundle (from "loupe train" or the Registry) in a studio backup with the Registry's own
import: every check of the bundle, then the next version number of its model, status candidate (a
model reaches production only through the gate). Writes the result as a new backup file; the input
backup is not changed. (A bundle also imports directly on the studio's Registry page.)

Options:
      --bundle <zip>   the model bundle (required)
  -b, --backup <zip>   the backup to add it to (default: none, a new backup)
      --name <name>    register under this name instead of the bundle's
  -o, --out <zip>      where to write the new backup (required)
  -h, --help           this help`,
  async run(values, io) {
    const bundlePath = required(values, 'bundle');
    const out = required(values, 'out');
    const backupPath = optional(values, 'backup');
    const bytes = await readInputFile(bundlePath, '--bundle');
    const backup = backupPath ? parseBackup(await readInputFile(backupPath, '--backup'), backupPath) : undefined;
    const db = memoryDb();
    try {
      if (backup) await restoreBackup(db, backup);
      let row: ModelVersionRow;
      try {
        row = await importBundle(new ModelRegistry(db), bytes, { name: optional(values, 'name') });
      } catch (error) {
        throw new BadFormatError(`--bundle ${bundlePath}: ${(error as Error).message}`);
      }
      await writeOutput(out, await exportEverything(db));
      io.err(`registered ${row.name} v${row.version} (candidate) in ${out}\n`);
      io.out(jsonText({ backup: out, model: row.name, version: row.version, status: row.status }));
      return EXIT.ok;
    } finally {
      db.close();
    }
  },
};
