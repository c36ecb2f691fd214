import { describe, expect, it } from 'vitest';
import { SourceDraft } from '../../../../src/components/text-models/source-draft.svelte';
import type { EncoderRef, ModelRef } from '../../../../src/lib/text/encoder/source';

const HOST = 'https://models.test/';

/** The editor over a parent that stores each change before showing it (an IndexedDB write of `writeMs`). */
function editor(initial: ModelRef | EncoderRef, writeMs = 20) {
  const state = $state({ value: initial });
  const sent: (ModelRef | EncoderRef)[] = [];
  const writes: Promise<void>[] = [];
  const draft = new SourceDraft(() => ({
    value: state.value,
    defaultModelId: 'Xenova/all-MiniLM-L6-v2',
    onchange: (next) => {
      sent.push(next);
      writes.push(
        new Promise((resolve) =>
          setTimeout(() => {
            state.value = next;
            resolve();
          }, writeMs),
        ),
      );
    },
  }));
  return { draft, sent, state, saved: () => Promise.all(writes) };
}

describe('SourceDraft (Settings → Text models, where a model comes from)', () => {
  it('keeps a just-saved host when the model id is edited before the write lands', async () => {
    const { draft, sent, state, saved } = editor({ source: { kind: 'hub', modelId: 'Xenova/all-MiniLM-L6-v2' }, quantized: true, pooling: 'mean' });
    draft.setKind('host', []);
    expect(draft.invalid).toBe('enter the host URL that serves {model}/resolve/main/…');
    expect(sent).toEqual([]);
    draft.setHost(` ${HOST} `);
    expect(sent.at(-1)!.source).toEqual({ kind: 'host', host: HOST, modelId: 'Xenova/all-MiniLM-L6-v2' });
    // The saved value is still the hub source: the next edit builds on the host just committed.
    expect(state.value.source.kind).toBe('hub');
    expect(draft.kind).toBe('host');
    draft.setModelId('loupe/tiny-roberta-encoder');
    expect(sent.at(-1)!.source).toEqual({ kind: 'host', host: HOST, modelId: 'loupe/tiny-roberta-encoder' });
    draft.change({ quantized: false }); // a checkbox ticked before either write landed
    expect(sent.at(-1)).toEqual({ source: { kind: 'host', host: HOST, modelId: 'loupe/tiny-roberta-encoder' }, quantized: false, pooling: 'mean' });
    await saved();
    expect(state.value).toEqual({ source: { kind: 'host', host: HOST, modelId: 'loupe/tiny-roberta-encoder' }, quantized: false, pooling: 'mean' });
    expect([draft.kind, draft.host, draft.modelId]).toEqual(['host', HOST, 'loupe/tiny-roberta-encoder']);
  });

  it('shows a source saved elsewhere once the saved value moves on', async () => {
    const { draft, state, saved } = editor({ source: { kind: 'hub', modelId: 'Xenova/a' }, quantized: true });
    draft.setModelId('Xenova/b');
    await saved();
    expect(draft.modelId).toBe('Xenova/b');
    state.value = { source: { kind: 'folder', name: 'picked' }, quantized: true }; // another tab, or a folder pick
    expect([draft.kind, draft.folder]).toEqual(['folder', 'picked']);
  });

  it('names what is wrong with an invalid model id and saves nothing', () => {
    const { draft, sent } = editor({ source: { kind: 'hub', modelId: 'Xenova/a' }, quantized: true });
    draft.setModelId('not a model id!');
    expect(draft.invalid).toMatch(/^source\.modelId must look like "owner\/name", got "not a model id!"/);
    expect(sent).toEqual([]);
  });
});
