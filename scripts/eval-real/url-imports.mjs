// Lets Node run modules written for Vite: `import file from 'pkg/file.wasm?url'` becomes the file's
// path on disk (Vite would emit the file and give its URL). Used as `node --import tsx --import ./this`.
import { register } from 'node:module';

const hooks = `
import { fileURLToPath } from 'node:url';
export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?url')) return next(specifier, context);
  const { url } = await next(specifier.slice(0, -'?url'.length), context);
  return { url: 'data:text/javascript,export default ' + encodeURIComponent(JSON.stringify(fileURLToPath(url))), shortCircuit: true };
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);
