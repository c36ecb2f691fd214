/**
 * The Python an exported cluster job carries (models/cluster: train.py, loupe_ddp/, README.md), bundled as
 * text by Vite and fetched only when a job is exported. The CLI reads the same folder from disk.
 */
const SOURCES = import.meta.glob<string>('../../../models/cluster/**/*.{py,md}', { query: '?raw', import: 'default' });

export async function clusterSources(): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  for (const [path, load] of Object.entries(SOURCES)) files[path.replace(/^.*\/models\/cluster\//, '')] = new TextEncoder().encode(await load());
  return files;
}
