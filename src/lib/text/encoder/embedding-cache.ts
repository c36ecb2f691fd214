import type { LoupeDb } from '$lib/db/db';
import type { EmbeddingRow } from '$lib/db/types';
import { sha256Hex } from '$lib/hash';

export interface CachedEmbeddings {
  /** One vector per input text, in input order. */
  vectors: Float32Array[];
  /** Distinct texts found in the cache, and those the encoder had to embed. */
  hits: number;
  misses: number;
}

/**
 * Embeddings of texts through the IndexedDB cache keyed by (encoder, text hash): only texts this
 * encoder never saw are embedded, so retraining after new data embeds just the new texts.
 * @example const { vectors } = await cachedEmbeddings(db, modelKey(ref), texts, (t) => encodeTexts(ref, t));
 */
export async function cachedEmbeddings(
  db: LoupeDb,
  encoder: string,
  texts: string[],
  embed: (texts: string[]) => Promise<Float32Array[]>,
): Promise<CachedEmbeddings> {
  const hashes = await Promise.all(texts.map((text) => sha256Hex(text)));
  const distinct = [...new Set(hashes)];
  const stored = await db.embeddings.bulkGet(distinct.map((hash) => [encoder, hash] as [string, string]));
  const byHash = new Map<string, Float32Array>();
  distinct.forEach((hash, i) => {
    const row = stored[i];
    if (row) byHash.set(hash, row.vector);
  });
  const hits = byHash.size;
  const missing = distinct.filter((hash) => !byHash.has(hash));
  if (missing.length) {
    const textOf = new Map(hashes.map((hash, i) => [hash, texts[i]!]));
    const vectors = await embed(missing.map((hash) => textOf.get(hash)!));
    if (vectors.length !== missing.length) throw new Error(`the encoder returned ${vectors.length} vectors for ${missing.length} texts`);
    const now = Date.now();
    const rows: EmbeddingRow[] = missing.map((hash, i) => ({ encoder, hash, vector: vectors[i]!, createdAt: now }));
    await db.embeddings.bulkPut(rows);
    rows.forEach((row) => byHash.set(row.hash, row.vector));
  }
  return { vectors: hashes.map((hash) => byHash.get(hash)!), hits, misses: missing.length };
}

/** How many vectors are cached for an encoder (Settings shows it; clearing frees the space). */
export function countEmbeddings(db: LoupeDb, encoder: string): Promise<number> {
  return db.embeddings.where('encoder').equals(encoder).count();
}

/** Drops the cached vectors of one encoder, or of all. */
export async function clearEmbeddings(db: LoupeDb, encoder?: string): Promise<void> {
  if (encoder === undefined) await db.embeddings.clear();
  else await db.embeddings.where('encoder').equals(encoder).delete();
}
