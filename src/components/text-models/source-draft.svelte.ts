import { validateSource, type EncoderRef, type ModelRef, type ModelSource } from '$lib/text/encoder/source';

export type SourceKind = 'hub' | 'host' | 'folder';

export interface SourceDraftProps {
  /** The saved reference; it changes only after the parent has stored a change (an IndexedDB write). */
  value: ModelRef | EncoderRef;
  /** The model id a switch to the hub or a host starts from. */
  defaultModelId: string;
  onchange: (value: ModelRef | EncoderRef) => void;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What the model source editor shows and commits. Edits that are not a valid source yet (a host being
 * typed, "Local folder" before a folder is picked) are drafts. A committed source is shown — and built on
 * by the next edit — until the saved value moves off the one it replaced: the parent stores it first, so
 * in between the saved value is still the old one, and an edit there must not rebuild the old source
 * (a model id typed right after a host was saved would have gone back to the hub, dropping the host).
 * @example const draft = new SourceDraft(() => ({ value, defaultModelId, onchange })); draft.setHost(url);
 */
export class SourceDraft {
  readonly #props: () => SourceDraftProps;
  draftKind = $state<SourceKind>();
  draftHost = $state<string>();
  draftModelId = $state<string>();
  /** Why the drafted source is not valid yet. */
  invalid = $state<string>();
  /** The last committed source and the saved one it replaces. */
  #committed = $state.raw<{ source: ModelSource; replaces: ModelSource }>();

  constructor(props: () => SourceDraftProps) {
    this.#props = props;
  }

  /** The committed source while the saved value has not caught up with it, else the saved one. */
  readonly source: ModelSource = $derived.by(() => {
    const saved = this.#props().value.source;
    const committed = this.#committed;
    return committed && same(saved, committed.replaces) ? committed.source : saved;
  });
  readonly kind: SourceKind = $derived(this.draftKind ?? (this.source.kind === 'path' ? 'folder' : this.source.kind));
  readonly modelId: string = $derived.by(() => this.draftModelId ?? ('modelId' in this.source ? this.source.modelId : this.#props().defaultModelId));
  readonly host: string = $derived(this.draftHost ?? (this.source.kind === 'host' ? this.source.host : ''));
  readonly folder: string = $derived(this.source.kind === 'folder' ? this.source.name : '');

  /** Commits a whole source if it is valid (else says why), on top of the last committed one. */
  setSource(source: ModelSource): void {
    try {
      validateSource(source);
    } catch (error) {
      this.invalid = error instanceof Error ? error.message : String(error);
      return;
    }
    this.draftKind = this.draftHost = this.draftModelId = this.invalid = undefined;
    this.#committed = { source, replaces: $state.snapshot(this.#props().value.source) as ModelSource };
    this.change({ source });
  }

  /** Hands the parent the reference with `patch` applied to what is shown (quantized, pooling, source). */
  change(patch: Partial<EncoderRef>): void {
    this.#props().onchange({ ...this.#props().value, source: this.source, ...patch } as ModelRef | EncoderRef);
  }

  /** Commits the drafted hub or host source when it is complete. */
  commit(): void {
    if (this.kind === 'hub') this.setSource({ kind: 'hub', modelId: this.modelId });
    else if (this.kind === 'host') {
      if (this.host) this.setSource({ kind: 'host', host: this.host, modelId: this.modelId });
      else this.invalid = 'enter the host URL that serves {model}/resolve/main/…';
    }
  }

  setKind(next: SourceKind, folders: readonly string[]): void {
    this.draftKind = next;
    this.invalid = undefined;
    if (next === 'folder') {
      const name = this.folder || folders[0];
      if (name) this.setSource({ kind: 'folder', name });
    } else this.commit();
  }

  setHost(text: string): void {
    this.draftHost = text.trim();
    this.commit();
  }

  setModelId(text: string): void {
    this.draftModelId = text.trim();
    this.commit();
  }
}
