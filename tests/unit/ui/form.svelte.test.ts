import { describe, expect, it } from 'vitest';
import { FormAction } from '../../../src/lib/ui/form.svelte';

describe('FormAction', () => {
  it('keeps the page, is busy while saving, and shows why a save failed until the next try', async () => {
    let attempt = 0;
    let release!: () => void;
    const form = new FormAction(async () => {
      attempt++;
      await new Promise<void>((resolve) => (release = resolve));
      if (attempt === 1) throw new Error('threshold must be a number, got "x"');
    });
    const event = new Event('submit', { cancelable: true });

    const first = form.submit(event);
    expect(event.defaultPrevented).toBe(true);
    expect(form.busy).toBe(true);
    release();
    await first;
    expect(form).toMatchObject({ busy: false, error: 'threshold must be a number, got "x"' });

    const second = form.submit();
    expect(form.error).toBeUndefined(); // cleared as soon as the user tries again
    release();
    await second;
    expect(form).toMatchObject({ busy: false, error: undefined });
  });

  it('shows a thrown non-error as text', async () => {
    const form = new FormAction(() => {
      throw 'offline';
    });
    await form.submit();
    expect(form.error).toBe('offline');
  });
});
