import type { Split, TaskName } from '$lib/db/types';

/** One file of an upload: from a file picker, a dropped folder, or an unpacked zip. */
export interface InputEntry {
  /** Path inside the upload, `/`-separated, no leading slash (e.g. `coins/1862_front.jpg`). */
  path: string;
  file: Blob;
}

/** An item left out of an import, and why (names the file or row and what was expected). */
export interface SkippedItem {
  item: string;
  reason: string;
}

export const SENTIMENT_LABELS = ['negative', 'neutral', 'positive'] as const;
export const DAMAGE_LABELS = ['minor', 'moderate', 'major'] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];
export type DamageLabel = (typeof DAMAGE_LABELS)[number];

/** Where an item came from in the upload (a manifest row, a folder), kept as the sample's `source`. */
interface CandidateBase {
  /** Names the item in reports: a path, or `file.csv row 12`. */
  item: string;
  label: string | number;
  /** A split the upload itself assigned (a `split` column, `train/` folder, tweet_eval file names). */
  split?: Split;
  fold?: number;
  source: string;
}

/** An image sample before its files are read: one image, or a coin's front and back. */
export interface ImageCandidate extends CandidateBase {
  kind: 'image';
  files: InputEntry[];
}

export interface TextCandidate extends CandidateBase {
  kind: 'text';
  text: string;
  path: string;
}

export type Candidate = ImageCandidate | TextCandidate;

/** What a parser makes of an upload: candidates still to be checked, plus what it skipped already. */
export interface ParseResult {
  task: TaskName;
  candidates: Candidate[];
  skipped: SkippedItem[];
  /** Classification: the upload's class names in output order (a preset, or the classes it brings). */
  labels?: string[];
  /** What the parser decided for the user, in words (how numeric labels were read). */
  notes?: string[];
  /** Set when the upload is a Loupe export: its recorded version id, name and flags. */
  export?: { id: string; name: string; synthetic?: boolean; parentId?: string; preset?: string };
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}
