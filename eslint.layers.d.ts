import type { Linter } from 'eslint';

/** Layers top to bottom: a name, then the folders, files and globs it holds (see eslint.layers.js). */
export const LAYERS: readonly [name: string, ...entries: string[]][];
/** Known wrong arrows, each one file and one import as written there, allowed until their owner removes them. */
export const TEMPORARY_EXCEPTIONS: readonly { file: string; import: string }[];
/** Flat-config blocks enforcing the layers. */
export function layerRules(): Linter.Config[];
