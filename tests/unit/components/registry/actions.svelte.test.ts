import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryActions } from '../../../../src/components/registry/actions.svelte';
import { setDb, type LoupeDb } from '../../../../src/lib/db/db';
import type { ModelVersionRow } from '../../../../src/lib/db/types';
import { ModelRegistry } from '../../../../src/lib/registry/registry';
import { notifications } from '../../../../src/lib/ui/notifications.svelte';
import { makeDb } from '../../factories';
import { registerInput } from '../../registry/helpers';

let db: LoupeDb;
let v1: ModelVersionRow;
let v2: ModelVersionRow;

beforeAll(async () => {
  db = makeDb();
  setDb(db); // the page's database
  const registry = new ModelRegistry(db);
  v1 = await registry.register(registerInput({ metrics: { val_mae: 14, val_rmse: 18 } }));
  v2 = await registry.register(registerInput({ metrics: { val_mae: 20, val_rmse: 25 } }));
});
afterAll(() => db.close());

const lastNotice = () => notifications.items.at(-1)?.message;

describe('RegistryActions', () => {
  it('asks before promoting, offering the evaluation sets the version was measured on, then shows the decision', async () => {
    const actions = new RegistryActions();
    await actions.ask('promote', v1);
    expect(actions.pending).toMatchObject({ kind: 'promote', production: undefined, evalDataVersion: 'ds-1', evalSets: ['ds-1'] });
    const confirming = actions.confirm();
    expect(actions).toMatchObject({ busy: true, pending: undefined });
    await confirming;
    expect(actions).toMatchObject({ busy: false, error: undefined, decision: { outcome: 'promoted', version: 1 } });
    expect(lastNotice()).toBe('coin-year v1 is now production.');
  });

  it('shows a rejection with its reason', async () => {
    const actions = new RegistryActions();
    await actions.ask('promote', v2);
    expect(actions.pending).toMatchObject({ production: 1 });
    await actions.confirm();
    expect(actions.error).toMatch(/mae/);
    expect(actions.decision).toMatchObject({ outcome: 'rejected', version: 2 });
  });

  it('cancels a pending action without doing it', async () => {
    const actions = new RegistryActions();
    await actions.ask('archive', v2);
    actions.cancel();
    await actions.confirm();
    expect(actions).toMatchObject({ pending: undefined, decision: undefined });
    expect((await db.modelVersions.get(v2.id))?.status).not.toBe('archived');
  });

  it('archives with the reason the user gave', async () => {
    const actions = new RegistryActions();
    await actions.ask('archive', v2);
    if (actions.pending?.kind === 'archive') actions.pending.reason = 'worse than v1';
    await actions.confirm();
    expect(actions.decision).toMatchObject({ version: 2, reason: expect.stringMatching(/worse than v1$/) });
    expect(lastNotice()).toBe('Archived coin-year v2.');
  });

  it('does not roll back to a version that was never production', async () => {
    const actions = new RegistryActions();
    await actions.ask('rollback', v2); // rejected by the gate, then archived: never production
    expect(actions).toMatchObject({ pending: undefined, error: 'coin-year v2 was never production, so production cannot roll back to it; send it through the gate instead.' });
  });

  it('answers with the decision of a gate that ran for the version after the dialog opened, and says so', async () => {
    const registry = new ModelRegistry(db);
    const v3 = await registry.register(registerInput({ metrics: { val_mae: 30, val_rmse: 35 } }));
    const actions = new RegistryActions();
    await actions.ask('promote', v3);
    expect(actions.pending).toMatchObject({ knownDecision: null });
    // Meanwhile another tab gates v3 (it is worse than production v1).
    await expect(registry.promote({ name: 'coin-year', version: 3, evalDataVersion: 'ds-1', evaluate: async (v) => ({ mae: v.version === 3 ? 30 : 14, rmse: 20 }) })).rejects.toThrow();
    const gates = async () => (await registry.audit('coin-year')).filter((e) => e.kind === 'gate' && e.version === 3).length;
    expect(await gates()).toBe(1);
    await actions.confirm();
    expect(await gates()).toBe(1);
    expect(actions.decision).toMatchObject({ outcome: 'rejected', version: 3 });
    expect(actions.joined).toBe('coin-year v3 was already being gated (in another tab or a pipeline): this is that gate\'s decision.');
  });

  it('says why there is nothing to roll back from', async () => {
    const other = await new ModelRegistry(db).register(registerInput({ name: 'coin-2' }));
    const actions = new RegistryActions();
    await actions.ask('rollback', other);
    expect(actions).toMatchObject({ pending: undefined, error: 'coin-2 has no production version to roll back from.' });
  });
});
