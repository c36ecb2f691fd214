import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../../src/lib/serving/errors';
import { decodeBase64Image, sniffImageType } from '../../../src/lib/serving/image';
import { DEFAULT_SERVING_LIMITS, type ServingLimits } from '../../../src/lib/serving/types';
import { formatPath, parseInvocation, parseJsonBody, parseTextPredict } from '../../../src/lib/serving/validate';
import { TASKS as DEFINITIONS } from '../../../src/lib/tasks/registry';
import type { TaskName } from '../../../src/lib/db/types';
import { b64, GIF, JPEG, PNG, WEBP } from './fakes';

const limits = DEFAULT_SERVING_LIMITS;
const coin = (front = b64(PNG), back = b64(JPEG)) => ({ front_image_base64: front, back_image_base64: back });

/** The validation error a call throws (fails the test if it throws anything else, or nothing). */
function failure(call: () => unknown): RequestValidationError {
  try {
    call();
  } catch (error) {
    if (error instanceof RequestValidationError) return error;
    throw new Error(`expected a RequestValidationError, got ${String(error)}`);
  }
  throw new Error('expected a RequestValidationError, but the call succeeded');
}

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody(new TextEncoder().encode('{"inputs":[1]}'), 100)).toEqual({ inputs: [1] });
  });

  it.each([
    ['malformed JSON', '{"inputs": [', 400],
    ['an empty body', '   ', 400],
  ])('answers %s with 400 naming the body', (_, body, status) => {
    const error = failure(() => parseJsonBody(new TextEncoder().encode(body), 1000));
    expect(error).toMatchObject({ status, code: 'malformed_json', field: 'body' });
  });

  it('refuses bytes that are not UTF-8 with 400', () => {
    expect(failure(() => parseJsonBody(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 100))).toMatchObject({ status: 400, field: 'body' });
  });

  it('refuses a body over the limit with 413 before parsing it', () => {
    const error = failure(() => parseJsonBody(new TextEncoder().encode(`{"text":"${'x'.repeat(200)}"}`), 100));
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', field: 'body', errorCode: 'REQUEST_LIMIT_EXCEEDED' });
  });
});

describe('parseInvocation: the MLflow envelope', () => {
  it('accepts each of the four formats and params', () => {
    const records = parseInvocation({ inputs: [coin()], params: { seed: 1, tags: ['a'] } }, 'coin-year', limits);
    expect(records).toMatchObject({ format: 'inputs', params: { seed: 1, tags: ['a'] } });
    expect(records.inputs[0]).toMatchObject({ front: { type: 'image/png' }, back: { type: 'image/jpeg' } });
    expect(parseInvocation({ instances: [{ text: 'hi' }] }, 'text-classification', limits).inputs).toEqual([{ text: 'hi' }]);
    expect(parseInvocation({ dataframe_records: [{ text: 'a' }, { text: 'b' }] }, 'text-classification', limits).inputs).toHaveLength(2);
    const split = parseInvocation(
      { dataframe_split: { columns: ['back_image_base64', 'front_image_base64'], data: [[b64(GIF), b64(WEBP)]], index: [0] } },
      'coin-year',
      limits,
    );
    expect(split.inputs[0]).toMatchObject({ front: { type: 'image/webp' }, back: { type: 'image/gif' } });
  });

  it('accepts bare strings and column-oriented inputs for one-field tasks', () => {
    expect(parseInvocation({ inputs: ['good', 'bad'] }, 'text-classification', limits).inputs).toEqual([{ text: 'good' }, { text: 'bad' }]);
    expect(parseInvocation({ inputs: { text: ['a', 'b', 'c'] } }, 'text-classification', limits).inputs).toHaveLength(3);
    expect(parseInvocation({ inputs: { text: 'one record' } }, 'text-classification', limits).inputs).toEqual([{ text: 'one record' }]);
  });

  it.each<[string, string, unknown]>([
    ['a non-object body', 'body', [coin()]],
    ['no format key', 'body', { params: {} }],
    ['two format keys', 'instances', { inputs: [coin()], instances: [coin()] }],
    ['an unknown top-level key', 'input', { inputs: [coin()], input: [] }],
    ['params that are not an object', 'params', { inputs: [coin()], params: [1] }],
    ['a param holding an object', 'params.nested', { inputs: [coin()], params: { nested: { a: 1 } } }],
    ['inputs that are a number', 'inputs', { inputs: 5 }],
    ['empty inputs', 'inputs', { inputs: [] }],
    ['a record missing a side', 'inputs[0].back_image_base64', { inputs: [{ front_image_base64: b64(PNG) }] }],
    ['a side that is not a string', 'inputs[1].front_image_base64', { inputs: [coin(), { ...coin(), front_image_base64: 5 }] }],
    ['a record with an extra field', 'inputs[0].year', { inputs: [{ ...coin(), year: 1900 }] }],
    ['a record that is a string, for two-field tasks', 'inputs[0]', { inputs: ['abc'] }],
    ['dataframe_split with an unknown key', 'dataframe_split.orient', { dataframe_split: { columns: [], data: [], orient: 'split' } }],
    ['dataframe_split missing a column', 'dataframe_split.columns', { dataframe_split: { columns: ['front_image_base64'], data: [[b64(PNG)]] } }],
    [
      'dataframe_split with an unknown column',
      'dataframe_split.columns[2]',
      { dataframe_split: { columns: ['front_image_base64', 'back_image_base64', 'mint'], data: [[b64(PNG), b64(PNG), 'x']] } },
    ],
    [
      'a dataframe_split row of the wrong length',
      'dataframe_split.data[1]',
      { dataframe_split: { columns: ['front_image_base64', 'back_image_base64'], data: [[b64(PNG), b64(PNG)], [b64(PNG)]] } },
    ],
    [
      'a dataframe_split cell of the wrong type',
      'dataframe_split.data[0][1]',
      { dataframe_split: { columns: ['front_image_base64', 'back_image_base64'], data: [[b64(PNG), null]] } },
    ],
    ['dataframe_records holding a string', 'dataframe_records[0]', { dataframe_records: ['abc'] }],
  ])('answers %s with 422 naming %s', (_, field, body) => {
    const error = failure(() => parseInvocation(body, 'coin-year', limits));
    expect(error).toMatchObject({ status: 422, field, errorCode: 'INVALID_PARAMETER_VALUE' });
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('names the missing field and the fields the model takes', () => {
    const error = failure(() => parseInvocation({ inputs: [{ front_image_base64: b64(PNG) }] }, 'coin-year', limits));
    expect(error.message).toBe('inputs[0].back_image_base64: is required (fields of this model: front_image_base64, back_image_base64)');
  });

  it('answers columns of unequal length with 422', () => {
    expect(failure(() => parseInvocation({ instances: { text: ['a', 'b'], other: ['c'] } }, 'text-classification', limits))).toMatchObject({
      status: 422,
      field: 'instances',
    });
  });

  it('answers more examples than the limit with 413', () => {
    const small: ServingLimits = { ...limits, maxBatch: 2 };
    expect(failure(() => parseInvocation({ inputs: ['a', 'b', 'c'] }, 'text-classification', small))).toMatchObject({ status: 413, field: 'inputs' });
    expect(failure(() => parseInvocation({ inputs: { text: ['a', 'b', 'c'] } }, 'text-classification', small))).toMatchObject({ status: 413, field: 'inputs.text' });
  });

  it('checks texts: empty is 422, too long is 413', () => {
    expect(failure(() => parseInvocation({ inputs: [{ text: '  ' }] }, 'text-classification', limits))).toMatchObject({ status: 422, field: 'inputs[0].text' });
    const long = 'x'.repeat(limits.maxTextChars + 1);
    expect(failure(() => parseInvocation({ dataframe_records: [{ text: long }] }, 'text-classification', limits))).toMatchObject({
      status: 413,
      field: 'dataframe_records[0].text',
    });
  });
});

describe('image fields', () => {
  it('recognises PNG, JPEG, WebP and GIF by their magic bytes only', () => {
    expect([PNG, JPEG, WEBP, GIF].map(sniffImageType)).toEqual(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
    expect(sniffImageType(new TextEncoder().encode('%PDF-1.7'))).toBeUndefined();
    expect(sniffImageType(new Uint8Array())).toBeUndefined();
  });

  it('accepts a data: URL prefix, line breaks, missing padding and the URL-safe alphabet', () => {
    const bytes = new Uint8Array([...PNG, 0xfb, 0xff, 0xfe]);
    const standard = b64(bytes);
    for (const variant of [
      `data:image/png;base64,${standard}`,
      standard.replace(/(.{8})/g, '$1\n'),
      standard.replace(/=+$/, ''),
      standard.replace(/\+/g, '-').replace(/\//g, '_'),
    ]) {
      expect(decodeBase64Image(variant, 'f', 1000).bytes).toEqual(bytes);
    }
  });

  it.each([
    ['PNG', PNG],
    ['JPEG', JPEG],
    ['GIF', GIF],
    ['WebP', WEBP],
  ])('answers a truncated %s with 422 invalid_image naming the field as written, at every cut', (format, image) => {
    // A GIF cut just before its one-byte trailer still holds its whole image (browsers show it): accepted.
    for (let length = 12; length < image.length - (format === 'GIF' ? 1 : 0); length++) {
      const half = b64(image.subarray(0, length));
      const inputs = failure(() => parseInvocation({ inputs: [coin(b64(PNG), half)] }, 'coin-year', limits));
      expect(inputs).toMatchObject({ status: 422, code: 'invalid_image', field: 'inputs[0].back_image_base64' });
      expect(inputs.detail).toMatch(new RegExp(`^is not a whole ${format} image: `));
      const split = failure(() => parseInvocation({ dataframe_split: { columns: ['front_image_base64', 'back_image_base64'], data: [[b64(PNG), half]] } }, 'coin-year', limits));
      expect(split).toMatchObject({ status: 422, code: 'invalid_image', field: 'dataframe_split.data[0][1]' });
    }
  });

  it('names where each value was, for the model\'s own errors about it', () => {
    const split = parseInvocation({ dataframe_split: { columns: ['back_image_base64', 'front_image_base64'], data: [[b64(PNG), b64(JPEG)]] } }, 'coin-year', limits);
    expect(split.fields).toEqual([{ back: 'dataframe_split.data[0][0]', front: 'dataframe_split.data[0][1]' }]);
    const columns = parseInvocation({ instances: { image_base64: [b64(PNG), b64(GIF)] } }, 'image-classification', limits);
    expect(columns.fields).toEqual([{ image: 'instances.image_base64[0]' }, { image: 'instances.image_base64[1]' }]);
  });

  it.each([
    ['characters outside base64', '@@@@'],
    ['a length no base64 has', 'iVBOR'],
    ['padding in the middle', 'iV==BORw'],
    ['an empty string', ''],
    ['a data: URL that is not base64', 'data:image/png,abc'],
    ['base64 of something that is not an image', b64(new TextEncoder().encode('hello, not an image'))],
  ])('answers %s with 422 invalid_image', (_, value) => {
    const error = failure(() => parseInvocation({ inputs: [coin(b64(PNG), value)] }, 'coin-year', limits));
    expect(error).toMatchObject({ status: 422, code: 'invalid_image', field: 'inputs[0].back_image_base64' });
  });

  it('answers an image over the limit with 413 before decoding it', () => {
    const small: ServingLimits = { ...limits, maxImageBytes: 12 };
    const error = failure(() => parseInvocation({ inputs: [{ image_base64: b64(new Uint8Array([...PNG, ...PNG])) }] }, 'image-classification', small));
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', field: 'inputs[0].image_base64' });
    expect(error.message).toMatch(/180 B; the limit is 12 B/);
  });
});

describe('parseTextPredict (POST /api/predict)', () => {
  it('takes {"text"}', () => {
    expect(parseTextPredict({ text: 'Beautiful post!!!' }, limits)).toEqual({ text: 'Beautiful post!!!' });
  });

  it.each<[string, string, number, unknown]>([
    ['a missing text', 'text', 422, {}],
    ['a text that is not a string', 'text', 422, { text: 3 }],
    ['an extra key', 'lang', 422, { text: 'a', lang: 'en' }],
    ['a body that is not an object', 'body', 422, 'hello'],
    ['an empty text', 'text', 422, { text: '' }],
    ['a text over the limit', 'text', 413, { text: 'x'.repeat(limits.maxTextChars + 1) }],
  ])('answers %s naming %s with %i', (_, field, status, body) => {
    expect(failure(() => parseTextPredict(body, limits))).toMatchObject({ status, field });
  });
});

describe('formatPath', () => {
  it('writes paths as a client would', () => {
    expect(formatPath(['inputs', 0, 'front_image_base64'])).toBe('inputs[0].front_image_base64');
    expect(formatPath(['dataframe_split', 'data', 2, 1])).toBe('dataframe_split.data[2][1]');
    expect(formatPath(['params', 'top k'])).toBe('params["top k"]');
    expect(formatPath([])).toBe('body');
  });
});

// ---------------------------------------------------------------------------------------------------
// Property-based: whatever arrives, validation answers a typed error that names a field, or succeeds.

const TASKS: TaskName[] = ['coin-year', 'image-classification', 'text-classification'];
const tinyLimits: ServingLimits = { maxImageBytes: 160, maxBodyBytes: 4096, maxBatch: 4, maxTextChars: 50 };

/**
 * Checks the contract of a validation outcome: the field is `body`, or starts at a key the client sent
 * or one the schema requires (`required`).
 */
function expectContract(call: () => unknown, body: unknown, required: string[] = []): void {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestValidationError);
    const { field, status, message } = error as RequestValidationError;
    expect(typeof field).toBe('string');
    expect(field.length).toBeGreaterThan(0);
    expect([400, 413, 422]).toContain(status);
    expect(message.startsWith(`${field}: `)).toBe(true);
    if (field !== 'body') {
      const root = /^([A-Za-z_$][\w$]*)|^\["((?:[^"\\]|\\.)*)"\]/.exec(field);
      expect(root).not.toBeNull();
      const key = root![1] ?? JSON.parse(`"${root![2]}"`);
      expect([...Object.keys(body as object), ...required]).toContain(key);
    }
  }
}

const base64ish = fc.oneof(
  fc.constantFrom(b64(PNG), b64(JPEG), b64(GIF), b64(WEBP), '', '====', 'data:image/png;base64,', `data:image/png;base64,${b64(PNG)}`),
  fc.base64String(),
  fc.string(),
  fc.uint8Array({ maxLength: 96 }).map(b64),
);

/** Bodies that are close to valid: right envelope, random records and cells. */
function nearValid(task: TaskName) {
  const names = [...DEFINITIONS[task].serving.fields.map((f) => f.name), 'extra'];
  const cell = fc.oneof(base64ish, fc.jsonValue());
  const record = fc.dictionary(fc.constantFrom(...names), cell, { maxKeys: 4 });
  const rows = fc.array(fc.oneof(record, cell), { maxLength: 6 });
  return fc.oneof(
    fc.record({ inputs: rows }),
    fc.record({ instances: fc.oneof(rows, fc.dictionary(fc.constantFrom(...names), fc.array(cell, { maxLength: 5 }))) }),
    fc.record({ dataframe_records: rows }),
    fc.record({
      dataframe_split: fc.record(
        { columns: fc.array(fc.constantFrom(...names), { maxLength: 4 }), data: fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 5 }), index: fc.jsonValue() },
        { requiredKeys: ['columns', 'data'] },
      ),
    }),
    fc.record({ inputs: rows, params: fc.jsonValue() }),
    fc.record({ inputs: rows, dataframe_records: rows }),
  );
}

describe('validation properties', () => {
  it('never throws anything but a RequestValidationError naming a field, for any JSON value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASKS), fc.jsonValue(), (task, body) => {
        expectContract(() => parseInvocation(body, task, tinyLimits), body);
        expectContract(() => parseTextPredict(body, tinyLimits), body, ['text']);
      }),
      { numRuns: 500 },
    );
  });

  it('holds for bodies close to valid ones', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASKS).chain((task) => fc.tuple(fc.constant(task), nearValid(task))), ([task, body]) => {
        expectContract(() => parseInvocation(body, task, tinyLimits), body);
      }),
      { numRuns: 1000 },
    );
  });

  it('holds for arbitrary JS values too (objects without prototypes, odd keys)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TASKS), fc.anything({ withNullPrototype: true, withObjectString: true }), (task, body) => {
        expectContract(() => parseInvocation(body, task, tinyLimits), body);
      }),
      { numRuns: 300 },
    );
  });

  it('parseJsonBody answers 400/413 or a value, for any bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string().map((s) => new TextEncoder().encode(s))), (bytes) => {
        expectContract(() => parseJsonBody(bytes, 150), {});
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every well-formed request, one input per example', () => {
    const image = fc.constantFrom(PNG, JPEG, GIF, WEBP).map(b64);
    const text = fc.string({ minLength: 1, maxLength: 50 }).filter((s) => s.trim() !== '');
    const example = (task: TaskName): fc.Arbitrary<Record<string, string>> =>
      task === 'coin-year'
        ? fc.record({ front_image_base64: image, back_image_base64: image })
        : task === 'image-classification'
          ? fc.record({ image_base64: image })
          : fc.record({ text });
    const wellFormed = fc.constantFrom(...TASKS).chain((task) =>
      fc.tuple(fc.constant(task), fc.array(example(task), { minLength: 1, maxLength: 4 }), fc.constantFrom('inputs', 'instances', 'dataframe_records', 'dataframe_split')),
    );
    fc.assert(
      fc.property(wellFormed, ([task, examples, format]) => {
        const columns = DEFINITIONS[task].serving.fields.map((f) => f.name);
        const body =
          format === 'dataframe_split'
            ? { dataframe_split: { columns, data: examples.map((e) => columns.map((c) => (e as Record<string, string>)[c])) } }
            : { [format]: examples };
        const parsed = parseInvocation(body, task, tinyLimits);
        expect(parsed.inputs).toHaveLength(examples.length);
        expect(parsed.format).toBe(format);
      }),
      { numRuns: 300 },
    );
  });
});
