import Papa from 'papaparse';
import { strToU8, Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import type { LoupeDb } from '$lib/db/db';
import type { SampleRow } from '$lib/db/types';
import { sniffImage } from './image-format';
import { EXPORT_MANIFEST } from './parsers';
import { shortVersion } from './version';
import type { ProgressCallback } from '$lib/progress';

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp', 'image/bmp': 'bmp' };

/** A file name for an export: `car-damage-demo-3f9a1c2b7d10.zip`. */
export function exportFileName(name: string, id: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dataset';
  return `${slug}-${shortVersion(id)}.zip`;
}

/**
 * Writes a dataset version as a zip: `loupe-dataset.json` (task, labels, splits, folds, paths — what
 * makes it import back to the same version id), `manifest.csv` (the silver table: path, label, split,
 * height, width, bytes, hash, source, plus text for sentiment) and the stored image files. Images are
 * stored, not deflated (they are compressed already), and the output is gathered as Blob parts so a
 * large export is never one big ArrayBuffer.
 * @example const zip = await exportDataset(db, datasetId); downloadBlob(zip, exportFileName(name, datasetId));
 */
export async function exportDataset(db: LoupeDb, datasetId: string, onProgress?: ProgressCallback): Promise<Blob> {
  const dataset = await db.datasets.get(datasetId);
  if (!dataset) throw new Error(`dataset version ${datasetId} does not exist`);
  const total = await db.samples.where('datasetId').equals(datasetId).count();

  const parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let failure: Error | undefined;
  let finished = false;
  const zip = new Zip((error, data, final) => {
    if (error) failure = error;
    pending.push(data);
    pendingBytes += data.length;
    if (pendingBytes > 16 * 2 ** 20 || final) {
      parts.push(new Blob(pending as BlobPart[]));
      pending = [];
      pendingBytes = 0;
    }
    if (final) finished = true;
  });
  const addText = (name: string, text: string) => {
    const file = new ZipDeflate(name, { level: 6 });
    zip.add(file);
    file.push(strToU8(text), true);
  };

  const manifestSamples: Record<string, unknown>[] = [];
  const table: Record<string, unknown>[] = [];
  let done = 0;
  const pageSize = 64;
  for (let offset = 0; offset < total; offset += pageSize) {
    const page: SampleRow[] = await db.samples.where('datasetId').equals(datasetId).offset(offset).limit(pageSize).toArray();
    for (const sample of page) {
      const files: string[] = [];
      for (const [i, blob] of (sample.blobs ?? []).entries()) {
        const bytes = new Uint8Array(await blob.arrayBuffer());
        const ext = EXT[blob.type] ?? (sniffImage(bytes) === 'jpeg' ? 'jpg' : sniffImage(bytes)) ?? 'bin';
        const side = sample.blobs!.length === 2 ? (i === 0 ? '-front' : '-back') : '';
        const name = `images/${sample.split}/${String(sample.label)}/${sample.hash.slice(0, 16)}${side}.${ext}`;
        const file = new ZipPassThrough(name);
        zip.add(file);
        file.push(bytes, true);
        files.push(name);
      }
      manifestSamples.push({
        path: sample.path,
        ...(files.length ? { files } : {}),
        ...(sample.text !== undefined ? { text: sample.text } : {}),
        label: sample.label,
        split: sample.split,
        ...(sample.fold !== undefined ? { fold: sample.fold } : {}),
        ...(sample.source ? { source: sample.source } : {}),
      });
      table.push({
        path: files.join('|') || sample.path,
        label: sample.label,
        split: sample.split,
        height: sample.height ?? '',
        width: sample.width ?? '',
        bytes: sample.bytes ?? '',
        hash: sample.hash,
        source: sample.source ?? '',
        ...(sample.text !== undefined ? { text: sample.text } : {}),
      });
      done++;
    }
    onProgress?.({ kind: 'progress', label: 'Exporting', done, total });
  }
  addText(
    EXPORT_MANIFEST,
    JSON.stringify(
      {
        format: 'loupe-dataset',
        formatVersion: 1,
        id: dataset.id,
        name: dataset.name,
        task: dataset.task,
        createdAt: dataset.createdAt,
        ...(dataset.parentId ? { parentId: dataset.parentId } : {}),
        ...(dataset.synthetic ? { synthetic: true } : {}),
        ...(dataset.labels ? { labels: dataset.labels } : {}),
        ...(dataset.preset ? { preset: dataset.preset } : {}),
        samples: manifestSamples,
      },
      null,
      1,
    ),
  );
  addText('manifest.csv', Papa.unparse(table));
  zip.end();
  if (failure) throw failure;
  if (!finished) throw new Error('the zip writer did not finish');
  return new Blob(parts, { type: 'application/zip' });
}
