/** Svelte's options for vite-plugin-svelte, svelte-check and eslint-plugin-svelte: Svelte 5 compiles TypeScript itself, so the defaults serve. */
export default {};
