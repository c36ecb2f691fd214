import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TaskName } from '../../../src/lib/db/types';
import { RequestValidationError } from '../../../src/lib/serving/errors';
import { decodeBase64Image, encodeBase64 } from '../../../src/lib/serving/image';
import { createRestHandler, type RestHandler } from '../../../src/lib/serving/rest';
import { normalizeInput, ServingSdk, type PredictInput } from '../../../src/lib/serving/sdk';
import type { ImageInput, PredictionRecord, ServingLimits } from '../../../src/lib/serving/types';
import { formatPath, INVOCATION_FORMATS, parseInvocation, parseJsonBody, parseTextPredict } from '../../../src/lib/serving/validate';
import { TASKS as DEFINITIONS } from '../../../src/lib/tasks/registry';
import { makeDb } from '../factories';
import { addVersion, b64, fakePredictors, GIF, JPEG, PNG, promote, WEBP } from '../serving/fakes';

/**
 * Issue #13: property-based fuzz of the REST request validators, beyond tests/unit/serving/validate.test.ts
 * ('validation properties'): the field an error names is a real place in the body, error paths read back
 * unambiguously, accepted requests round-trip exactly (texts, image bytes, params), and the whole REST
 * handler answers any bytes with a JSON 2xx/4xx — never a 500 — that agrees with the validators.
 */

const TASKS: TaskName[] = ['coin-year', 'image-classification', 'text-classification'];
const LIMITS: ServingLimits = { maxImageBytes: 256, maxBodyBytes: 8192, maxBatch: 4, maxTextChars: 80 };
const RUNS = { numRuns: 400 };

type Key = string | number;

/** Reads a path written by `formatPath` back into keys (`inputs[0]["a b"].text` → ['inputs', 0, 'a b', 'text']). */
function parsePath(path: string): Key[] {
  if (path === 'body') return [];
  const keys: Key[] = [];
  const token = /^(?:\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = path;
  while (rest) {
    const match = token.exec(rest);
    if (!match) throw new Error(`"${path}" is not a path formatPath writes (stuck at "${rest}")`);
    keys.push(match[1] ?? (match[2] !== undefined ? Number(match[2]) : (JSON.parse(match[3]!) as string)));
    rest = rest.slice(match[0].length);
  }
  return keys;
}

/**
 * The contract of a rejection: a `RequestValidationError` (never anything else) whose field is `body` or
 * a path into the body — every key but the last exists, and the last exists too unless it is missing
 * from a JSON object (a required field the client left out).
 */
function expectNamedRejection(error: unknown, body: unknown): RequestValidationError {
  if (!(error instanceof RequestValidationError)) throw new Error(`expected a RequestValidationError, got ${String(error)}`);
  expect([400, 413, 422]).toContain(error.status);
  expect(error.message.startsWith(`${error.field}: `)).toBe(true);
  expect(error.message.length).toBeGreaterThan(error.field.length + 4);
  let at: unknown = body;
  const keys = parsePath(error.field);
  keys.forEach((key, i) => {
    const container = at as Record<Key, unknown> | unknown[] | null;
    const isLast = i === keys.length - 1;
    expect(typeof container === 'object' && container !== null, `${error.field}: ${String(key)} is inside an object or array`).toBe(true);
    const present = Object.hasOwn(container as object, key);
    if (!present) {
      // Only a missing field of a record may be named; it must be the last key.
      expect(isLast && !Array.isArray(container), `${error.field} names something the body has`).toBe(true);
    }
    at = present ? (container as Record<Key, unknown>)[key] : undefined;
  });
  return error;
}

/** Runs a validator: its value, or the named rejection it threw. */
function outcome<T>(call: () => T, body: unknown): { ok: true; value: T } | { ok: false; error: RequestValidationError } {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    return { ok: false, error: expectNamedRejection(error, body) };
  }
}

// --- arbitraries ------------------------------------------------------------------------------------

const WHOLE = [PNG, JPEG, GIF, WEBP];
/** Bytes of an accepted image: a whole 1 × 1 image of each format and random bytes after its end (decoders ignore them). */
const imageBytes = fc.tuple(fc.constantFrom(...WHOLE), fc.uint8Array({ maxLength: LIMITS.maxImageBytes - JPEG.length })).map(([image, tail]) => new Uint8Array([...image, ...tail]));

/** The spellings the API documents for the same bytes. */
const SPELLINGS: ((bytes: Uint8Array) => string)[] = [
  (bytes) => b64(bytes),
  (bytes) => b64(bytes).replace(/=+$/, ''),
  (bytes) => b64(bytes).replace(/\+/g, '-').replace(/\//g, '_'),
  (bytes) => b64(bytes).replace(/(.{16})/g, '$1\r\n'),
  (bytes) => `data:image/png;base64,${b64(bytes)}`,
];
const spelledImage = fc.tuple(imageBytes, fc.integer({ min: 0, max: SPELLINGS.length - 1 })).map(([bytes, i]) => ({ bytes, text: SPELLINGS[i]!(bytes) }));

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '');

/** One valid example of a task, with what the predictor must receive for it. */
function example(task: TaskName): fc.Arbitrary<{ record: Record<string, string>; expected: Record<string, unknown> }> {
  if (task === 'text-classification') return text.map((t) => ({ record: { text: t }, expected: { text: t } }));
  if (task === 'image-classification') return spelledImage.map((image) => ({ record: { image_base64: image.text }, expected: { image: image.bytes } }));
  return fc.tuple(spelledImage, spelledImage).map(([front, back]) => ({
    record: { front_image_base64: front.text, back_image_base64: back.text },
    expected: { front: front.bytes, back: back.bytes },
  }));
}

const scalar = fc.oneof(fc.string({ maxLength: 10 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const params = fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 })), { maxKeys: 3 });

/** Any of the MLflow layouts (records, bare strings, columns, split, records frame) for the same examples. */
function layout(task: TaskName, records: Record<string, string>[]): fc.Arbitrary<Record<string, unknown>> {
  const columns = DEFINITIONS[task].serving.fields.map((f) => f.name);
  const choices: fc.Arbitrary<Record<string, unknown>>[] = [
    fc.constantFrom(...(['inputs', 'instances', 'dataframe_records'] as const)).map((key) => ({ [key]: records })),
    fc.constant({ dataframe_split: { columns, data: records.map((r) => columns.map((c) => r[c])) } }),
    fc.constantFrom('inputs', 'instances').map((key) => ({ [key]: Object.fromEntries(columns.map((c) => [c, records.map((r) => r[c])])) })),
  ];
  if (columns.length === 1) choices.push(fc.constantFrom('inputs', 'instances').map((key) => ({ [key]: records.map((r) => r[columns[0]!]) })));
  return fc.oneof(...choices);
}

const wellFormed = fc
  .constantFrom(...TASKS)
  .chain((task) => fc.tuple(fc.constant(task), fc.array(example(task), { minLength: 1, maxLength: LIMITS.maxBatch })))
  .chain(([task, examples]) =>
    fc.tuple(
      fc.constant(task),
      fc.constant(examples),
      layout(
        task,
        examples.map((e) => e.record),
      ),
      fc.option(params, { nil: undefined }),
    ),
  );

/**
 * A valid body with one value replaced: the walk picks an existing key at each level (or, in an object,
 * a new one), so the path it returns is where the body was broken.
 */
const mutated = wellFormed.chain(([task, , body]) =>
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.array(fc.nat(), { minLength: 1, maxLength: 5 })).map(([value, seeds]) => {
    const copy = structuredClone(body) as Record<string, unknown>;
    const path: Key[] = [];
    let at: Record<Key, unknown> = copy;
    for (const seed of seeds) {
      const keys: Key[] = Array.isArray(at) ? at.map((_, i) => i) : Object.keys(at);
      const key = !Array.isArray(at) && seed % (keys.length + 1) === keys.length ? 'extra' : keys[seed % keys.length];
      if (key === undefined) break;
      path.push(key);
      const next = at[key];
      if (path.length === seeds.length || typeof next !== 'object' || next === null) break;
      at = next as Record<Key, unknown>;
    }
    if (path.length === 0) return { task, body: copy, path };
    let parent: Record<Key, unknown> = copy;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<Key, unknown>;
    parent[path.at(-1)!] = value;
    return { task, body: copy, path };
  }),
);

/**
 * Whether a rejection's field points at the break: the same place, inside it or around it. Siblings count
 * only where the check is about two of them (top-level keys: two formats; `dataframe_split.columns`:
 * a duplicate), or where a column of `inputs`/`instances` stopped being a list (the columns become a record).
 */
function pointsAt(field: Key[], broken: Key[]): boolean {
  const prefix = (a: Key[], b: Key[]) => a.every((key, i) => b[i] === key);
  if (prefix(field, broken) || prefix(broken, field)) return true;
  if (field.length === 1 && broken.length === 1) return true;
  const underColumns = (p: Key[]) => p[0] === 'dataframe_split' && p[1] === 'columns';
  if (underColumns(field) && underColumns(broken)) return true;
  return broken.length <= 2 && field[0] === broken[0] && (broken[0] === 'inputs' || broken[0] === 'instances');
}

// --- properties -------------------------------------------------------------------------------------

describe('REST validators: rejections name a real place in the body', () => {
  it('for any JSON value, any task', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASKS), fc.jsonValue(), (task, body) => {
        outcome(() => parseInvocation(body, task, LIMITS), body);
        outcome(() => parseTextPredict(body, LIMITS), body);
      }),
      RUNS,
    );
  });

  it('for valid bodies with one value replaced anywhere, naming the place that was broken', () => {
    fc.assert(
      fc.property(mutated, ({ task, body, path }) => {
        const result = outcome(() => parseInvocation(body, task, LIMITS), body);
        if (!result.ok) expect({ field: result.error.field, broken: formatPath(path), points: pointsAt(parsePath(result.error.field), path) }).toMatchObject({ points: true });
      }),
      { numRuns: 1500 },
    );
  });

  it('for bodies with odd keys: unicode, dots, brackets, quotes, __proto__', () => {
    const oddKey = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('a.b', '[0]', '"', '\\', '__proto__', 'constructor', 'text ', ''));
    const body = fc.oneof(
      fc.dictionary(oddKey, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
      fc.record({ inputs: fc.array(fc.dictionary(oddKey, fc.string(), { maxKeys: 3 }), { maxLength: 3 }) }),
      fc.record({ params: fc.dictionary(oddKey, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }), inputs: fc.constant(['fine']) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...TASKS), body, (task, value) => {
        const parsed = JSON.parse(JSON.stringify(value)) as unknown; // as it arrives: own keys, no prototypes
        outcome(() => parseInvocation(parsed, task, LIMITS), parsed);
      }),
      RUNS,
    );
  });

  it('formatPath writes every path so that it reads back to the same keys', () => {
    const key = fc.oneof(fc.nat({ max: 1000 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), fc.constantFrom('a.b', '[1]', 'x"y', 'back\\slash'));
    fc.assert(
      fc.property(fc.array(key, { minLength: 1, maxLength: 5 }), (path) => {
        expect(parsePath(formatPath(path))).toEqual(path);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('REST validators: accepted requests round-trip', () => {
  it('every layout of valid examples decodes to exactly those texts and image bytes, params intact', () => {
    fc.assert(
      fc.property(wellFormed, ([task, examples, body, extra]) => {
        const request = extra === undefined ? body : { ...body, params: extra };
        // Through bytes, as a request arrives.
        const parsed = parseInvocation(parseJsonBody(new TextEncoder().encode(JSON.stringify(request)), LIMITS.maxBodyBytes * 4), task, LIMITS);
        const received = parsed.inputs.map((input) =>
          Object.fromEntries(Object.entries(input).map(([key, value]) => [key, typeof value === 'string' ? value : (value as ImageInput).bytes])),
        );
        expect(received).toEqual(examples.map((e) => e.expected));
        expect(INVOCATION_FORMATS).toContain(parsed.format);
        if (extra === undefined) expect(parsed.params).toBeUndefined();
        else expect(parsed.params).toEqual(JSON.parse(JSON.stringify(extra)));
      }),
      RUNS,
    );
  });

  it('api/predict returns the text it was sent, for any non-blank text within the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), (value) => {
        const body = parseJsonBody(new TextEncoder().encode(JSON.stringify({ text: value })), LIMITS.maxBodyBytes);
        const result = outcome(() => parseTextPredict(body, LIMITS), body);
        const acceptable = value.trim() !== '' && value.length <= LIMITS.maxTextChars;
        expect(result.ok).toBe(acceptable);
        if (result.ok) expect(result.value).toEqual({ text: value });
        else expect(result.error).toMatchObject({ field: 'text', status: value.trim() === '' ? 422 : 413 });
      }),
      RUNS,
    );
  });

  it('a base64 field decodes to bytes that encode back to it, or is refused as invalid_image / payload_too_large', () => {
    const anyText = fc.oneof(fc.string(), fc.base64String(), spelledImage.map((i) => i.text), fc.uint8Array({ maxLength: 300 }).map(b64));
    fc.assert(
      fc.property(anyText, (value) => {
        try {
          const image = decodeBase64Image(value, 'inputs[0].image_base64', LIMITS.maxImageBytes);
          const canonical = value.replace(/^data:[^,]*,/, '').replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
          expect(encodeBase64(image.bytes).replace(/=+$/, '')).toBe(canonical);
          expect(image.bytes.byteLength).toBeLessThanOrEqual(LIMITS.maxImageBytes);
        } catch (error) {
          expect(error).toBeInstanceOf(RequestValidationError);
          expect(error).toMatchObject({ field: 'inputs[0].image_base64' });
          expect(['invalid_image', 'payload_too_large']).toContain((error as RequestValidationError).code);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses more examples than the batch limit with 413, and texts over the limit with 413, naming where', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 120 }), fc.constantFrom('inputs', 'instances', 'dataframe_records'), (n, length, key) => {
        const body = { [key]: Array.from({ length: n }, () => ({ text: 'x'.repeat(length) })) };
        const result = outcome(() => parseInvocation(body, 'text-classification', LIMITS), body);
        if (n > LIMITS.maxBatch) expect(result.ok ? undefined : result.error).toMatchObject({ status: 413, field: key });
        else if (length > LIMITS.maxTextChars) expect(result.ok ? undefined : result.error).toMatchObject({ status: 413, field: `${key}[0].text` });
        else expect(result.ok && result.value.inputs).toHaveLength(n);
      }),
      RUNS,
    );
  });
});

describe('SDK inputs: any value is an input of its task or a named rejection', () => {
  it('normalizeInput throws only RequestValidationError naming the input', async () => {
    const value = fc.oneof(
      fc.anything(),
      fc.record({ text: fc.anything() }),
      fc.record({ image: fc.oneof(fc.anything(), imageBytes, imageBytes.map((b) => b.buffer)) }),
      fc.record({ front: fc.oneof(imageBytes, fc.anything()), back: fc.oneof(imageBytes, fc.anything()) }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TASKS), value, async (task, input) => {
        try {
          await normalizeInput(task, input as PredictInput, LIMITS, 'input');
        } catch (error) {
          expect(error).toBeInstanceOf(RequestValidationError);
          expect((error as RequestValidationError).field).toMatch(/^input\.(text|image|front|back)$/);
        }
      }),
      RUNS,
    );
  });
});

describe('the REST handler under fuzz', () => {
  let handle: RestHandler;
  const logged: PredictionRecord[] = [];
  /** Registered model names and the task each serves: one per task, and car-damage and sentiment, names from before the renames. */
  const MODELS: [string, TaskName][] = [...TASKS.map((task): [string, TaskName] => [task, task]), ['car-damage', 'image-classification'], ['sentiment', 'text-classification']];

  beforeAll(async () => {
    const db = makeDb();
    for (const [name, task] of MODELS) {
      // A model registered before image classification had its name keeps its name and no task tag.
      await addVersion(db, name, 1, name === task ? { tags: { task } } : {});
      await promote(db, name, 1);
    }
    const sdk = new ServingSdk({ db, predictors: fakePredictors().factory, sink: { record: (e) => void logged.push(e) } });
    handle = createRestHandler({ sdk, limits: async () => LIMITS });
  });

  const routes = [...MODELS.map(([name]) => `models/${name}/invocations`), 'predict'];
  const bodyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v) ?? 'null')),
    mutated.map(({ body }) => new TextEncoder().encode(JSON.stringify(body))),
    wellFormed.map(([, , body]) => new TextEncoder().encode(JSON.stringify(body))),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
  );

  it('answers any bytes with JSON: 200 exactly when the validators accept, else their 4xx and field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), bodyBytes, async (route, bytes) => {
        const task = route === 'predict' ? 'text-classification' : MODELS.find(([name]) => name === route.split('/')[1])![1];
        let expected: { status: number; field?: string; count?: number };
        try {
          const json = parseJsonBody(bytes, LIMITS.maxBodyBytes);
          expected = route === 'predict' ? (parseTextPredict(json, LIMITS), { status: 200 }) : { status: 200, count: parseInvocation(json, task, LIMITS).inputs.length };
        } catch (error) {
          if (!(error instanceof RequestValidationError)) throw error;
          expected = { status: error.status, field: error.field };
        }
        const response = await handle(new Request(`http://studio.test/app/api/${route}`, { method: 'POST', body: bytes }));
        const answer = (await response.json()) as { predictions?: unknown[]; label?: string; error?: { field?: string; message: string }; error_code?: string };
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect({ status: response.status, field: answer.error?.field }).toEqual({ status: expected.status, field: expected.field });
        if (expected.status === 200) {
          if (route === 'predict') expect(['negative', 'neutral', 'positive']).toContain(answer.label);
          else expect(answer.predictions).toHaveLength(expected.count!);
        } else {
          expect(answer.error_code).toMatch(/^(BAD_REQUEST|INVALID_PARAMETER_VALUE|REQUEST_LIMIT_EXCEEDED)$/);
          expect(answer.error!.message.startsWith(`${expected.field}: `)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** Every path in a JSON value to a string equal to `text`. */
function pathsOf(value: unknown, text: string, at: Key[] = []): Key[][] {
  if (value === text) return [at];
  if (Array.isArray(value)) return value.flatMap((item, i) => pathsOf(item, text, [...at, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => pathsOf(item, text, [...at, key]));
  return [];
}

describe('images that do not decode (issue #25): 422 invalid_image naming the field as written, never a 500, never a model error', () => {
  const IMAGE_TASKS: TaskName[] = ['coin-year', 'image-classification'];
  /** Marks an image the fake decoder refuses: these bytes after its end (the container is whole). */
  const POISON = [0xee, 0x0b, 0xad];
  const poisoned = (bytes: Uint8Array) => POISON.every((b, i) => bytes[bytes.length - POISON.length + i] === b);

  async function handlerFor(task: TaskName) {
    const db = makeDb();
    await addVersion(db, task, 1, { tags: { task } });
    await promote(db, task, 1);
    const failures: string[] = [];
    const base = fakePredictors().factory;
    // A predictor whose decoder (in the worker) refuses poisoned images, as the real one refuses damaged
    // pixels: its ImageDecodeError crosses comlink as a plain Error with its name and fields.
    const sdk = new ServingSdk({
      db,
      predictors: async (row) => {
        const predictor = await base(row);
        return {
          ...predictor,
          predict: async (inputs) => {
            inputs.forEach((input, sample) => {
              const images = 'text' in input ? [] : 'image' in input ? [input.image] : [input.front, input.back];
              images.forEach(({ bytes }, image) => {
                if (poisoned(bytes)) throw Object.assign(new Error('inputs could not be decoded as an image: bad Huffman code'), { name: 'ImageDecodeError', reason: 'bad Huffman code', sample, image });
              });
            });
            return predictor.predict(inputs);
          },
        };
      },
      sink: { record: () => {}, recordFailure: (f) => void failures.push(f.error) },
    });
    return { handle: createRestHandler({ sdk, limits: async () => LIMITS }), failures };
  }

  const broken = fc.constantFrom(...IMAGE_TASKS).chain((task) =>
    fc
      .tuple(fc.array(example(task), { minLength: 1, maxLength: LIMITS.maxBatch }), fc.nat(), fc.constantFrom('cut', 'undecodable'), fc.nat())
      .chain(([examples, which, kind, cutAt]) => {
        const flat = examples.flatMap((e, i) => Object.keys(e.record).map((column) => [i, column] as const));
        const [index, column] = flat[which % flat.length]!;
        const whole = WHOLE[cutAt % WHOLE.length]!;
        // Cut anywhere past the magic bytes and before the end marker (a GIF's trailer is optional), or whole but undecodable.
        const bytes = kind === 'cut' ? whole.subarray(0, 12 + (cutAt % (whole.length - 13 - (whole === GIF ? 1 : 0)))) : new Uint8Array([...whole, ...POISON]);
        const text = `data:image/png;base64,${b64(bytes)}`;
        const records = examples.map((e, i) => (i === index ? { ...e.record, [column]: text } : e.record));
        return fc.tuple(fc.constant(task), fc.constant(kind), fc.constant(text), layout(task, records));
      }),
  );

  it('in every layout, for a cut container (refused before the model) or pixels the model cannot decode', async () => {
    const handlers = Object.fromEntries(await Promise.all(IMAGE_TASKS.map(async (task) => [task, await handlerFor(task)] as const)));
    await fc.assert(
      fc.asyncProperty(broken, async ([task, kind, text, body]) => {
        const { handle, failures } = handlers[task]!;
        const before = failures.length;
        const response = await handle(new Request(`http://studio.test/app/api/models/${task}/invocations`, { method: 'POST', body: JSON.stringify(body) }));
        const answer = (await response.json()) as { error?: { code: string; field?: string; message: string }; error_code?: string };
        const [path] = pathsOf(body, text);
        expect({ kind, status: response.status, code: answer.error?.code, errorCode: answer.error_code, field: answer.error?.field }).toEqual({
          kind,
          status: 422,
          code: 'invalid_image',
          errorCode: 'INVALID_PARAMETER_VALUE',
          field: formatPath(path!),
        });
        expect(answer.error!.message).toMatch(kind === 'cut' ? /: is not a whole (PNG|JPEG|GIF|WebP) image: / : /: could not be decoded as an image \(bad Huffman code\)$/);
        expect(failures.length).toBe(before); // not a model error
      }),
      { numRuns: 400 },
    );
  });
});
