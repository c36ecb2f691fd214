import type { Split, TaskName } from '$lib/db/types';
import { canonicalTask, presetOf, TASKS } from '$lib/tasks/registry';
import { DatasetValidationError } from './errors';
import { hasIdxFiles, parseIdxUpload } from './idx';
import { checkLabel, taskLabels } from './labels';
import { classSetOf, declaredClassSet, type ClassSet } from './label-sets';
import { basename, dirname, PathIndex, splitFromPath, splitFromWord, unsafePathReason } from './paths';
import { field, isTableFile, readTable, readText, type Table, type TableRecord } from './tables';
import type { Candidate, ImageCandidate, InputEntry, ParseResult, SkippedItem, TextCandidate } from './types';

/** The file a Loupe export carries its manifest in (see export.ts). */
export const EXPORT_MANIFEST = 'loupe-dataset.json';

const columnsOf = (task: TaskName) => [...TASKS[task].dataset.columns];
/** How a task's preset is named in notes on numeric labels (`tweet_eval`, `Car damage`). */
const presetNameOf = (task: TaskName) => {
  const preset = TASKS[task].presets[0];
  return preset ? (preset.numbering ?? `the ${preset.title} preset`) : undefined;
};
const formatsOf = (task: TaskName) => TASKS[task].dataset.formats;

/** The split a record names in its `split` column, the manifest's own name, or none. */
function recordSplit(record: TableRecord, table: Table): { split?: Split; reason?: string } {
  const raw = field(record, 'split');
  if (raw === '') return { split: splitFromPath(table.file) };
  const split = splitFromWord(raw);
  return split ? { split } : { reason: `unknown split "${raw}"; expected train, val (validation) or test` };
}

/** The manifests among the tables that have `required` columns, or a `DatasetValidationError` naming what is missing. */
function manifests(tables: Table[], task: TaskName, required: string[]): Table[] {
  const usable = tables.filter((t) => required.every((c) => t.columns.includes(c)));
  if (usable.length > 0) return usable;
  if (tables.length === 0) {
    throw new DatasetValidationError(`No manifest found. A ${task} upload needs ${formatsOf(task)}.`);
  }
  const best = [...tables].sort((a, b) => required.filter((c) => b.columns.includes(c)).length - required.filter((c) => a.columns.includes(c)).length)[0]!;
  const missing = required.filter((c) => !best.columns.includes(c));
  throw new DatasetValidationError(
    `${best.file} has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} (found: ${best.columns.join(', ') || 'none'}). A ${task} manifest needs the columns ${required.join(', ')}.`,
    best.file,
    missing[0],
  );
}

async function readTables(entries: InputEntry[]): Promise<{ tables: Table[]; skipped: SkippedItem[] }> {
  const tables: Table[] = [];
  const skipped: SkippedItem[] = [];
  for (const entry of entries.filter((e) => isTableFile(e.path))) {
    const table = await readTable(entry.path, entry.file);
    skipped.push(...table.skipped);
    tables.push(table);
  }
  return { tables, skipped };
}

function reportUnreferenced(entries: InputEntry[], used: Set<string>, manifestNames: string[], skipped: SkippedItem[]): void {
  for (const entry of entries) {
    if (used.has(entry.path) || isTableFile(entry.path)) continue;
    skipped.push({ item: entry.path, reason: `not referenced by ${manifestNames.join(' or ')}` });
  }
}

/**
 * Image pairs (coin-year): manifests with `front`, `back`, `year` (CSV/TSV/JSONL; paths relative to the manifest or
 * the upload's root). Optional `split` column; else a manifest named `train.csv`/`val.csv`/`test.csv`
 * gives its rows that split.
 */
export async function parsePairUpload(task: TaskName, entries: InputEntry[]): Promise<ParseResult> {
  const { tables, skipped } = await readTables(entries);
  const usable = manifests(tables, task, columnsOf(task));
  const index = new PathIndex(entries);
  const candidates: Candidate[] = [];
  const used = new Set<string>();
  for (const table of usable) {
    for (const record of table.records) {
      const year = checkLabel(task, record.values.year);
      const side = (name: 'front' | 'back') => {
        const ref = field(record, name);
        if (ref === '') return { reason: `no ${name} image given` };
        const unsafe = unsafePathReason(ref);
        if (unsafe) return { reason: `${name} path "${ref}": ${unsafe}` };
        const entry = index.resolve(ref, table.file);
        return entry ? { entry } : { reason: `${name} image "${ref}" is not in the upload` };
      };
      const front = side('front');
      const back = side('back');
      if (front.entry) used.add(front.entry.path);
      if (back.entry) used.add(back.entry.path);
      const reasons: string[] = [];
      if (!front.entry || !back.entry) {
        const missing = [front.reason, back.reason].filter(Boolean).join('; ');
        reasons.push(front.entry || back.entry ? `missing pair partner: ${missing}` : `missing both images: ${missing}`);
      }
      if (!year.ok) reasons.push(year.reason);
      const split = recordSplit(record, table);
      if (split.reason) reasons.push(split.reason);
      if (reasons.length > 0 || !year.ok) {
        skipped.push({ item: record.where, reason: reasons.join('; ') });
        continue;
      }
      candidates.push({
        kind: 'image',
        item: `${record.where} (${front.entry!.path} + ${back.entry!.path})`,
        files: [front.entry!, back.entry!],
        label: year.label,
        split: split.split,
        source: table.file,
      });
    }
  }
  reportUnreferenced(entries, used, usable.map((t) => t.file), skipped);
  return { task, candidates, skipped };
}

/**
 * Image classification: a CSV with `path,label` (when one exists), else one folder per class — the
 * nearest enclosing folder named like a preset class (`minor`, `moderate`, `major`) is the label, or
 * else each image's nearest folder; a `train/`, `val/` or `test/` folder above it gives the split.
 */
export async function parseImageUpload(task: TaskName, entries: InputEntry[]): Promise<ParseResult> {
  if (hasIdxFiles(entries)) return { task, ...(await parseIdxUpload(entries)) };
  const preset = taskLabels(task)!;
  const { tables, skipped } = await readTables(entries);
  const files = entries.filter((e) => !isTableFile(e.path));
  const foldered = files.some((e) => e.path.split('/').slice(0, -1).some((s) => preset.includes(s.toLowerCase())));
  const withColumns = tables.filter((t) => columnsOf(task).every((c) => t.columns.includes(c)));
  // No preset folder and no manifest: each image's class is its nearest folder that is not a split.
  const customFolders = !foldered && withColumns.length === 0 && tables.length === 0 ? files.map(classFolder).filter((f) => f !== undefined) : [];
  if (withColumns.length === 0 && (foldered || customFolders.length > 0)) {
    const names = foldered ? [...preset] : classSetOf(customFolders, []).labels;
    // Manifests that are not `path,label` tables are simply not used in folder mode.
    for (const table of tables) skipped.push({ item: table.file, reason: 'not used: images are labelled by their class folder' });
    const candidates = files.map((e) => folderCandidate(e, names, skipped)).filter((c) => c !== undefined);
    // The classes are the folders there are: minor/ and major/ alone make two classes, in preset order.
    const labels = foldered ? names.filter((l) => candidates.some((c) => c.label === l)) : names;
    return { task, candidates, skipped, labels };
  }
  if (withColumns.length === 0 && tables.length === 0) {
    throw new DatasetValidationError(`No class folders or manifest found. An image-classification upload needs ${formatsOf(task)}.`);
  }
  const usable = manifests(tables, task, columnsOf(task));
  const classes = classSetOf(usable.flatMap((t) => t.records.map((r) => r.values.label)), preset, { presetName: presetNameOf(task) });
  const index = new PathIndex(entries);
  const candidates: Candidate[] = [];
  const used = new Set<string>();
  for (const table of usable) {
    for (const record of table.records) {
      const ref = field(record, 'path');
      const label = classes.check(record.values.label);
      const reasons: string[] = [];
      let entry: InputEntry | undefined;
      if (ref === '') reasons.push('path is empty; expected an image path inside the upload');
      else if (unsafePathReason(ref)) reasons.push(`path "${ref}": ${unsafePathReason(ref)}`);
      else {
        entry = index.resolve(ref, table.file);
        if (entry) used.add(entry.path);
        else reasons.push(`image "${ref}" is not in the upload`);
      }
      if (!label.ok) reasons.push(label.reason);
      const split = recordSplit(record, table);
      if (split.reason) reasons.push(split.reason);
      if (reasons.length > 0 || !entry || !label.ok) {
        skipped.push({ item: record.where, reason: reasons.join('; ') });
        continue;
      }
      candidates.push({ kind: 'image', item: `${record.where} (${entry.path})`, files: [entry], label: label.label, split: split.split ?? splitFromPath(entry.path), source: table.file });
    }
  }
  reportUnreferenced(entries, used, usable.map((t) => t.file), skipped);
  return { task, candidates, skipped, labels: classes.labels, ...(classes.note ? { notes: [classes.note] } : {}) };
}

/** The nearest enclosing folder that is not a split folder (`train/`, `val/`, `test/`): a custom class. */
function classFolder(entry: InputEntry): string | undefined {
  return entry.path.split('/').slice(0, -1).reverse().find((f) => !splitFromWord(f));
}

function folderCandidate(entry: InputEntry, labels: readonly string[], skipped: SkippedItem[]): ImageCandidate | undefined {
  const folders = entry.path.split('/').slice(0, -1);
  const label = [...folders].reverse().find((f) => labels.includes(f) || labels.includes(f.toLowerCase()));
  if (!label) {
    const parent = folders.at(-1);
    skipped.push({
      item: entry.path,
      reason: parent && !splitFromWord(parent)
        ? `unknown label "${parent}" (its folder); expected a folder named ${labels.join(', ')}`
        : `not inside a class folder; expected it under ${labels.map((l) => `${l}/`).join(', ')}`,
    });
    return undefined;
  }
  return { kind: 'image', item: entry.path, files: [entry], label: labels.includes(label) ? label : label.toLowerCase(), split: splitFromPath(entry.path), source: dirname(entry.path) || 'upload' };
}

/**
 * Text (any label set): CSV/TSV/JSONL with `text` and `label`, and the tweet_eval layout (`train_text.txt` +
 * `train_labels.txt`, line by line; the file prefix names the split). The classes are the labels; only a
 * chosen preset (`sentiment`) reads numbers as its names, so a 0/1 spam set keeps the classes 0 and 1.
 */
export async function parseTextUpload(task: TaskName, entries: InputEntry[], presetId?: string): Promise<ParseResult> {
  const skipped: SkippedItem[] = [];
  // Labels are checked once all are read: the upload's class set depends on all of them (label-sets.ts).
  const pending: { where: string; text: string; label: unknown; split: Split | undefined; source: string }[] = [];
  const textFiles = entries.filter((e) => /_text\.txt$/i.test(e.path));
  const labelFiles = new Map(entries.filter((e) => /_labels\.txt$/i.test(e.path)).map((e) => [e.path.toLowerCase(), e]));
  const paired = new Set<string>();
  for (const textFile of textFiles) {
    const labelPath = textFile.path.replace(/_text\.txt$/i, '_labels.txt');
    const labelFile = labelFiles.get(labelPath.toLowerCase());
    if (!labelFile) {
      skipped.push({ item: textFile.path, reason: `no labels file: expected ${basename(labelPath)} beside it (tweet_eval layout)` });
      continue;
    }
    paired.add(textFile.path).add(labelFile.path);
    const texts = splitLines(await readText(textFile.file));
    const labels = splitLines(await readText(labelFile.file));
    const split = splitFromPath(textFile.path);
    const n = Math.max(texts.length, labels.length);
    for (let i = 0; i < n; i++) {
      const where = `${textFile.path} line ${i + 1}`;
      if (i >= labels.length) {
        skipped.push({ item: where, reason: `no label: ${labelFile.path} has only ${labels.length} lines` });
        continue;
      }
      if (i >= texts.length) {
        skipped.push({ item: `${labelFile.path} line ${i + 1}`, reason: `label without text: ${textFile.path} has only ${texts.length} lines` });
        continue;
      }
      pending.push({ where, text: texts[i]!, label: labels[i]!, split, source: textFile.path });
    }
  }
  for (const labelFile of labelFiles.values()) {
    if (!paired.has(labelFile.path)) skipped.push({ item: labelFile.path, reason: `no text file: expected ${basename(labelFile.path.replace(/_labels\.txt$/i, '_text.txt'))} beside it` });
  }
  const { tables, skipped: tableSkips } = await readTables(entries);
  skipped.push(...tableSkips);
  // `class` is the label column of the UCI Sentiment Labelled Sentences' {text, class} records.
  const labelColumn = (t: Table) => (t.columns.includes('label') ? 'label' : t.columns.includes('class') ? 'class' : undefined);
  const usable = tables.filter((t) => t.columns.includes('text') && labelColumn(t));
  // Without tweet_eval files, the upload must have a usable table: `manifests` throws naming the missing column.
  if (textFiles.length === 0 && labelFiles.size === 0 && usable.length === 0) manifests(tables, task, columnsOf(task));
  for (const table of tables) {
    if (!usable.includes(table)) skipped.push({ item: table.file, reason: `not used: it has no columns text and label (found: ${table.columns.join(', ') || 'none'})` });
  }
  for (const table of usable) {
    for (const record of table.records) {
      const split = recordSplit(record, table);
      if (split.reason) {
        skipped.push({ item: record.where, reason: split.reason });
        continue;
      }
      pending.push({ where: record.where, text: field(record, 'text'), label: record.values[labelColumn(table)!], split: split.split, source: table.file });
    }
  }
  const preset = presetOf(task, presetId);
  const classes = classSetOf(pending.map((p) => p.label), preset?.labels ?? [], {
    binaryNames: preset?.binary,
    presetName: preset && (preset.numbering ?? `the ${preset.title} preset`),
  });
  const candidates: Candidate[] = [];
  for (const p of pending) {
    const candidate = textCandidate(p.where, p.text, p.label, p.split, p.source, skipped, classes);
    if (candidate) candidates.push(candidate);
  }
  for (const entry of entries) {
    if (!isTableFile(entry.path) && !paired.has(entry.path) && !/_text\.txt$/i.test(entry.path)) {
      skipped.push({ item: entry.path, reason: `not used: ${formatsOf(task)}` });
    }
  }
  return { task, candidates, skipped, labels: classes.labels, ...(classes.note ? { notes: [classes.note] } : {}) };
}

function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

function textCandidate(where: string, rawText: string, rawLabel: unknown, split: Split | undefined, source: string, skipped: SkippedItem[], classes: ClassSet): TextCandidate | undefined {
  const text = rawText.trim();
  const label = classes.check(rawLabel);
  const reasons: string[] = [];
  if (text === '') reasons.push('empty text');
  if (!label.ok) reasons.push(label.reason);
  if (reasons.length > 0 || !label.ok) {
    skipped.push({ item: where, reason: reasons.join('; ') });
    return undefined;
  }
  return { kind: 'text', item: where, path: where, text, label: label.label, split, source };
}

interface ExportManifest {
  format: 'loupe-dataset';
  formatVersion: number;
  id: string;
  name: string;
  /** The task's name when exported (earlier names such as `car-damage` included). */
  task: string;
  synthetic?: boolean;
  parentId?: string;
  /** Class names of a classification dataset (exports before label sets lack them: the task's preset). */
  labels?: string[];
  /** The label preset it was imported under (`car-damage`; older exports said it as their task). */
  preset?: string;
  samples: { path: string; files?: string[]; text?: string; label: string | number; split: Split; fold?: number; source?: string }[];
}

/** An export's label preset; exports made when car damage was a task of its own name it as the task. */
function exportedPreset(manifest: ExportManifest): string | undefined {
  if (typeof manifest.preset === 'string') return manifest.preset;
  return manifest.task !== canonicalTask(manifest.task) ? manifest.task : undefined;
}

/** A Loupe export (`loupe-dataset.json` + files): keeps its labels, splits and folds so it re-imports to the same version. */
export async function parseExport(manifestEntry: InputEntry, entries: InputEntry[]): Promise<ParseResult> {
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse(await readText(manifestEntry.file)) as ExportManifest;
  } catch (error) {
    throw new DatasetValidationError(`${manifestEntry.path} is not valid JSON (${(error as Error).message})`, manifestEntry.path);
  }
  const task = canonicalTask(manifest?.task);
  if (manifest?.format !== 'loupe-dataset' || !Array.isArray(manifest.samples) || !task) {
    throw new DatasetValidationError(`${manifestEntry.path} is not a Loupe dataset manifest (expected format "loupe-dataset" with task and samples)`, manifestEntry.path, 'format');
  }
  const { input, kind } = TASKS[task];
  const index = new PathIndex(entries);
  const skipped: SkippedItem[] = [];
  const candidates: Candidate[] = [];
  const splits = new Set<Split>(['train', 'val', 'test', 'unassigned']);
  const classes = kind === 'classification' && Array.isArray(manifest.labels) ? declaredClassSet(manifest.labels.map(String)) : undefined;
  manifest.samples.forEach((sample, i) => {
    const where = `${manifestEntry.path} sample ${i + 1} (${sample.path})`;
    const label = classes ? classes.check(sample.label) : checkLabel(task, sample.label);
    if (!label.ok) return skipped.push({ item: where, reason: label.reason });
    const split = splits.has(sample.split) ? sample.split : undefined;
    const common = { item: where, label: label.label, split, fold: sample.fold, source: sample.source ?? 'import' };
    if (input === 'text') {
      if (!sample.text?.trim()) return skipped.push({ item: where, reason: 'empty text' });
      candidates.push({ kind: 'text', ...common, text: sample.text.trim(), path: sample.path });
      return;
    }
    const files = (sample.files ?? []).map((f) => index.resolve(f, manifestEntry.path));
    const expected = input === 'image-pair' ? 2 : 1;
    if (files.length !== expected || files.some((f) => !f)) {
      const missing = (sample.files ?? []).filter((_, j) => !files[j]);
      return skipped.push({ item: where, reason: `${input === 'image-pair' ? 'missing pair partner: ' : ''}${missing.length ? `${missing.join(', ')} not in the upload` : `expected ${expected} image file(s)`}` });
    }
    candidates.push({ kind: 'image', ...common, files: files as InputEntry[] });
  });
  return { task, candidates, skipped, ...(classes ? { labels: classes.labels } : {}), export: { id: manifest.id, name: manifest.name, synthetic: manifest.synthetic, parentId: manifest.parentId, preset: exportedPreset(manifest) } };
}

/**
 * Reads an upload (already unpacked: see `expandUpload`) for a task: finds its manifests or folders,
 * checks labels and pairs, and returns candidates plus every item skipped so far with its reason. `preset`
 * is the one chosen for the import (`sentiment`), if any.
 * Throws `DatasetValidationError` when the upload as a whole does not fit the task.
 */
export async function parseUpload(task: TaskName, entries: InputEntry[], preset?: string): Promise<ParseResult> {
  const manifest = entries.find((e) => basename(e.path) === EXPORT_MANIFEST && e.path.split('/').length <= 2);
  if (manifest) {
    const rest = entries.filter((e) => e !== manifest && basename(e.path) !== 'manifest.csv');
    const result = await parseExport(manifest, rest);
    if (result.task !== task) {
      throw new DatasetValidationError(`${manifest.path} is a ${result.task} dataset, but the import is for ${task}; choose the task ${result.task}.`, manifest.path, 'task');
    }
    const used = new Set(result.candidates.flatMap((c) => (c.kind === 'image' ? c.files.map((f) => f.path) : [])));
    if (TASKS[task].input !== 'text') reportUnreferenced(rest, used, [manifest.path], result.skipped);
    return result;
  }
  switch (TASKS[task].input) {
    case 'image-pair':
      return parsePairUpload(task, entries);
    case 'image':
      return parseImageUpload(task, entries);
    case 'text':
      return parseTextUpload(task, entries, preset);
  }
}
