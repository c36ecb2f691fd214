// Node module hooks for the `loupe` bin: Vite's `import x from 'file?url'` gives the asset's URL. Core
// modules use it for .wasm runtimes (tfjs, onnxruntime); outside Vite the same import gives the file's
// own file:// URL, so those modules load in Node too.
export async function load(url, context, nextLoad) {
  const parsed = new URL(url);
  if (parsed.protocol === 'file:' && parsed.searchParams.has('url')) {
    parsed.search = '';
    return { format: 'module', source: `export default ${JSON.stringify(parsed.href)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
