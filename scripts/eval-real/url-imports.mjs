// Lets Node run modules written for Vite (`import file from 'pkg/file.wasm?url'`) with the `loupe` bin's
// hooks. Used as `node --import tsx --import ./this`.
import { register } from 'node:module';

register('../../bin/asset-url-hooks.mjs', import.meta.url);
