import { notify } from '$lib/ui/notifications.svelte';
import { router } from '$lib/ui/router.svelte';

/**
 * One import from the Registry's forms: busy while it runs, then the new version's page — or the file's
 * name and the reason it was refused, kept in `error` for the form's alert.
 */
export class ImportRun {
  busy = $state(false);
  error = $state<string>();

  async run(fileName: string, register: () => Promise<{ name: string; version: number; summary?: string }>): Promise<void> {
    this.error = undefined;
    this.busy = true;
    try {
      const row = await register();
      notify('ok', `Imported ${fileName} as ${row.name} v${row.version}${row.summary ? ` (${row.summary})` : ''}.`);
      router.go('registry', row.name, String(row.version));
    } catch (e) {
      this.error = `${fileName} was not imported — ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.busy = false;
    }
  }
}
