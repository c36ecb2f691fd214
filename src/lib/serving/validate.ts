import * as v from 'valibot';
import type { TaskName } from '$lib/db/types';
import { TASKS } from '$lib/tasks/registry';
import type { ServingField } from '$lib/tasks/types';
import { RequestValidationError } from './errors';
import { decodeBase64Image } from './image';
import type { ServingInput, ServingLimits } from './types';

/**
 * Request validation for the REST API, following the MLflow scoring protocol: a body holds exactly one
 * of `inputs`, `instances`, `dataframe_split {columns, data}`, `dataframe_records` (and optionally
 * `params`). Every failure is a `RequestValidationError` naming the field, as the client wrote it:
 * `inputs[0].front_image_base64`, `dataframe_split.data[2][1]`, `params.top_k`.
 */

/** A column of a task's requests and the key of the predictor input it fills (the task definition's). */
export type InputField = ServingField;

export const INVOCATION_FORMATS = ['inputs', 'instances', 'dataframe_split', 'dataframe_records'] as const;
export type InvocationFormat = (typeof INVOCATION_FORMATS)[number];

export type ParamValue = string | number | boolean | null | (string | number | boolean | null)[];

export interface ParsedInvocation {
  format: InvocationFormat;
  inputs: ServingInput[];
  /** Where each input's values were, by predictor key, as the client wrote them: `{ back: 'dataframe_split.data[0][1]' }`. */
  fields: Record<string, string>[];
  params?: Record<string, ParamValue>;
}

type PathKey = string | number;

/** `['inputs', 0, 'front_image_base64']` → `inputs[0].front_image_base64`. */
export function formatPath(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out || 'body';
}

const invalid = (path: readonly PathKey[], message: string) => new RequestValidationError(422, 'invalid_request', formatPath(path), message);
const tooLarge = (path: readonly PathKey[], message: string) => new RequestValidationError(413, 'payload_too_large', formatPath(path), message);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const fieldList = (fields: readonly InputField[]) => fields.map((f) => f.name).join(', ');

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  return String(value);
}

const EXPECTED_WORDS: Record<string, string> = { string: 'a string', Object: 'a JSON object', Array: 'an array', number: 'a number' };

/** Runs a valibot schema; its first issue becomes a 422 naming the field (the issue's path under `base`). */
function check<S extends v.GenericSchema>(schema: S, value: unknown, base: readonly PathKey[], unknownKey = 'is not an accepted field'): v.InferOutput<S> {
  const result = v.safeParse(schema, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = [...base, ...(issue.path ?? []).map((item) => item.key as PathKey)];
  let message: string;
  if (issue.kind === 'validation') message = issue.message;
  else if (issue.expected === 'never') message = unknownKey;
  else if (issue.received === 'undefined') message = 'is required';
  else message = `must be ${EXPECTED_WORDS[issue.expected ?? ''] ?? issue.expected}, got ${describeValue(issue.input)}`;
  throw invalid(path, message);
}

/** A JSON object (valibot's object schemas also let arrays through). */
function objectAt(value: unknown, path: readonly PathKey[]): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalid(path, `must be a JSON object, got ${describeValue(value)}`);
  return value;
}

function arrayAt(value: unknown, path: readonly PathKey[], limits: ServingLimits): unknown[] {
  const rows = check(v.array(v.unknown()), value, path);
  if (rows.length === 0) throw invalid(path, 'must hold at least one example');
  if (rows.length > limits.maxBatch) throw tooLarge(path, `holds ${rows.length} examples; the limit is ${limits.maxBatch} per request`);
  return rows;
}

const scalar = v.union([v.string(), v.number(), v.boolean(), v.null()], 'must be a string, number, boolean or null (or an array of them)');
const paramsSchema = v.record(v.string(), v.union([scalar, v.array(scalar)], 'must be a string, number, boolean or null (or an array of them)'));

/** One example as a map from field name to its value and the path it came from. */
type Row = Map<string, { value: unknown; path: PathKey[] }>;

function rowFromObject(record: Record<string, unknown>, path: readonly PathKey[]): Row {
  return new Map(Object.entries(record).map(([key, value]) => [key, { value, path: [...path, key] }]));
}

function recordRow(value: unknown, path: readonly PathKey[], fields: readonly InputField[], allowScalar: boolean): Row {
  if (allowScalar && fields.length === 1 && typeof value === 'string') return new Map([[fields[0]!.name, { value, path: [...path] }]]);
  const expected = allowScalar && fields.length === 1 ? `a JSON object with ${fields[0]!.name}, or a string` : `a JSON object with ${fieldList(fields)}`;
  if (!isPlainObject(value)) throw invalid(path, `must be ${expected}, got ${describeValue(value)}`);
  return rowFromObject(value, path);
}

/** `inputs` / `instances`: a list of records (or of strings, for one-field tasks), columns, or one record. */
function rowsOfInputs(value: unknown, key: InvocationFormat, fields: readonly InputField[], limits: ServingLimits): Row[] {
  if (Array.isArray(value)) return arrayAt(value, [key], limits).map((item, i) => recordRow(item, [key, i], fields, true));
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, column]) => Array.isArray(column))) {
      // Column-oriented: {"text": ["a", "b"]}.
      const lengths = new Set(entries.map(([, column]) => (column as unknown[]).length));
      const [first] = entries;
      if (lengths.size > 1) throw invalid([key], 'columns must all have the same length');
      const n = (first![1] as unknown[]).length;
      if (n === 0) throw invalid([key, first![0]], 'must hold at least one example');
      if (n > limits.maxBatch) throw tooLarge([key, first![0]], `holds ${n} examples; the limit is ${limits.maxBatch} per request`);
      return Array.from({ length: n }, (_, i) => new Map(entries.map(([name, column]) => [name, { value: (column as unknown[])[i], path: [key, name, i] }])));
    }
    return [rowFromObject(value, [key])];
  }
  throw invalid([key], `must be a list of examples, got ${describeValue(value)}`);
}

const splitSchema = v.strictObject({
  columns: v.array(v.string()),
  data: v.array(v.array(v.unknown())),
  index: v.optional(v.array(v.unknown())),
});

function rowsOfSplit(value: unknown, fields: readonly InputField[], limits: ServingLimits): Row[] {
  const split = check(splitSchema, objectAt(value, ['dataframe_split']), ['dataframe_split'], 'is not part of dataframe_split; expected columns, data and optionally index');
  const seen = new Set<string>();
  split.columns.forEach((column, j) => {
    if (seen.has(column)) throw invalid(['dataframe_split', 'columns', j], `names column "${column}" twice`);
    if (!fields.some((f) => f.name === column)) throw invalid(['dataframe_split', 'columns', j], `"${column}" is not a field of this model; expected ${fieldList(fields)}`);
    seen.add(column);
  });
  const missing = fields.find((f) => !seen.has(f.name));
  if (missing) throw invalid(['dataframe_split', 'columns'], `lacks the column "${missing.name}" (fields of this model: ${fieldList(fields)})`);
  const data = arrayAt(split.data, ['dataframe_split', 'data'], limits) as unknown[][];
  return data.map((row, i) => {
    if (row.length !== split.columns.length) {
      throw invalid(['dataframe_split', 'data', i], `has ${row.length} values but there are ${split.columns.length} columns`);
    }
    return new Map(split.columns.map((column, j) => [column, { value: row[j], path: ['dataframe_split', 'data', i, j] }]));
  });
}

function rowsOfRecords(value: unknown, fields: readonly InputField[], limits: ServingLimits): Row[] {
  return arrayAt(value, ['dataframe_records'], limits).map((item, i) => recordRow(item, ['dataframe_records', i], fields, false));
}

/** Checks one example's fields and decodes them into the predictor's input (and where each value was). */
function inputOfRow(row: Row, fields: readonly InputField[], limits: ServingLimits, where: readonly PathKey[]): { input: ServingInput; names: Record<string, string> } {
  for (const [name, cell] of row) {
    if (!fields.some((f) => f.name === name)) throw invalid(cell.path, `is not a field of this model; expected ${fieldList(fields)}`);
  }
  const input: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  for (const field of fields) {
    const cell = row.get(field.name);
    if (!cell) throw invalid([...where, field.name], `is required (fields of this model: ${fieldList(fields)})`);
    const text = check(v.string(), cell.value, cell.path);
    const name = formatPath(cell.path);
    names[field.key] = name;
    if (field.kind === 'image') {
      input[field.key] = decodeBase64Image(text, name, limits.maxImageBytes);
    } else {
      if (text.trim() === '') throw invalid(cell.path, 'must not be empty');
      if (text.length > limits.maxTextChars) throw tooLarge(cell.path, `is ${text.length} characters; the limit is ${limits.maxTextChars}`);
      input[field.key] = text;
    }
  }
  return { input: input as unknown as ServingInput, names };
}

/**
 * Validates an MLflow-style invocation body (already parsed JSON) for a model of `task`, and decodes
 * its examples. Never throws anything but `RequestValidationError`.
 * @example parseInvocation({ inputs: [{ text: 'great!' }] }, 'sentiment', DEFAULT_SERVING_LIMITS)
 */
export function parseInvocation(body: unknown, task: TaskName, limits: ServingLimits): ParsedInvocation {
  const fields = TASKS[task].serving.fields;
  const object = objectAt(body, []);
  const formats = INVOCATION_FORMATS.filter((key) => Object.hasOwn(object, key));
  for (const key of Object.keys(object)) {
    if (key !== 'params' && !(INVOCATION_FORMATS as readonly string[]).includes(key)) {
      throw invalid([key], `is not an accepted field; send exactly one of ${INVOCATION_FORMATS.join(', ')} (and optionally params)`);
    }
  }
  if (formats.length === 0) throw invalid([], `must hold exactly one of ${INVOCATION_FORMATS.join(', ')}`);
  if (formats.length > 1) throw invalid([formats[1]!], `cannot be sent together with ${formats[0]}; send exactly one of ${INVOCATION_FORMATS.join(', ')}`);
  const format = formats[0]!;
  const params = Object.hasOwn(object, 'params') ? check(paramsSchema, objectAt(object.params, ['params']), ['params']) : undefined;
  const value = object[format];
  const rows =
    format === 'dataframe_split'
      ? rowsOfSplit(value, fields, limits)
      : format === 'dataframe_records'
        ? rowsOfRecords(value, fields, limits)
        : rowsOfInputs(value, format, fields, limits);
  const where = (i: number): PathKey[] => (Array.isArray(value) ? [format, i] : [format]);
  const checked = rows.map((row, i) => inputOfRow(row, fields, limits, where(i)));
  const inputs = checked.map((c) => c.input);
  const names = checked.map((c) => c.names);
  return params ? { format, inputs, fields: names, params } : { format, inputs, fields: names };
}

/**
 * The sentiment contract of `POST /api/predict`: `{"text": "…"}`.
 * @example parseTextPredict({ text: 'Beautiful post!!!' }, DEFAULT_SERVING_LIMITS) // → { text: 'Beautiful post!!!' }
 */
export function parseTextPredict(body: unknown, limits: ServingLimits): { text: string } {
  const { text } = check(v.strictObject({ text: v.string() }), objectAt(body, []), [], 'is not an accepted field; send {"text": "…"}');
  if (text.trim() === '') throw invalid(['text'], 'must not be empty');
  if (text.length > limits.maxTextChars) throw tooLarge(['text'], `is ${text.length} characters; the limit is ${limits.maxTextChars}`);
  return { text };
}

/**
 * Bytes of a request body → JSON, with the body size limit checked first.
 * @throws RequestValidationError 413 (too large) or 400 (empty, not UTF-8, not JSON), field `body`
 */
export function parseJsonBody(body: Uint8Array | string, maxBodyBytes: number): unknown {
  const size = typeof body === 'string' ? new TextEncoder().encode(body).byteLength : body.byteLength;
  if (size > maxBodyBytes) throw new RequestValidationError(413, 'payload_too_large', 'body', `is ${size} bytes; the limit is ${maxBodyBytes}`);
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new RequestValidationError(400, 'malformed_json', 'body', 'is not UTF-8 text; send JSON');
  }
  if (text.trim() === '') throw new RequestValidationError(400, 'malformed_json', 'body', 'is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RequestValidationError(400, 'malformed_json', 'body', `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}
