import { RangeSet, type DBCore, type DBCoreMutateRequest, type DBCoreTable, type Middleware, type ObservabilitySet } from 'dexie';

/**
 * Tables written on every prediction: the inference log and its per-minute rollups.
 * See `coarseObservation`.
 */
export const PER_REQUEST_TABLES: readonly string[] = ['inferenceLog', 'rollups'];

/**
 * A Dexie middleware that reports every write to `tables` as touching the whole table (all keys of every
 * index), as Dexie itself does for a write of 50 rows or more.
 *
 * Why: each `liveQuery` adds the key ranges of every write in this tab (or another) to a set it only
 * empties when its own query re-runs, and a query that never reads these tables (the REST host's serving
 * settings, Settings → Push metrics, most pages' queries) never re-runs while predictions are logged. With
 * one range per new row, that set grew by ~800 bytes a request under the group commit's small
 * transactions; with whole-table ranges every write merges into the ranges already there.
 * The cost: a live query that reads these tables re-runs on every write to them, also one that looks at
 * another model's rows.
 * @example db.use(coarseObservation(PER_REQUEST_TABLES));
 */
export function coarseObservation(tables: readonly string[]): Middleware<DBCore> {
  const coarse = new Set(tables);
  // Above every key of these tables (numbers, strings, arrays of them); Dexie's own MAX_KEY is a string
  // where the IndexedDB cannot compare [[]], and then misses their compound keys.
  const last = [[]];
  return {
    stack: 'dbcore',
    name: 'CoarseObservation',
    // Above Dexie's observability middleware (level 0), which adds its keys to the parts it finds on the request.
    level: 1,
    create: (down) => ({
      ...down,
      table: (name) => {
        const table = down.table(name);
        if (!coarse.has(name)) return table;
        const whole = (): ObservabilitySet => {
          const parts: ObservabilitySet = {};
          for (const index of ['', ':dels', ...table.schema.indexes.map((i) => i.name)]) {
            parts[`idb://${down.schema.name}/${name}/${index}`] = new RangeSet(-Infinity, last);
          }
          return parts;
        };
        return {
          ...table,
          mutate: (req: DBCoreMutateRequest) => table.mutate({ ...req, mutatedParts: { ...req.mutatedParts, ...whole() } }),
        } satisfies DBCoreTable;
      },
    }),
  };
}
