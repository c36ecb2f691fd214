import { TASKS } from '$lib/tasks/registry';
import { APP_VERSION, GIT_COMMIT } from '$lib/version';
import { errorResponse, jsonResponse, RequestValidationError, responseForError, ServingError } from './errors';
import type { BatchPrediction, ServingSdk } from './sdk';
import type { Prediction, ServingLimits } from './types';
import { parseInvocation, parseJsonBody, parseTextPredict } from './validate';

/**
 * The same-origin REST API, as a plain `Request → Response` function (the tab's REST host calls it
 * with what the service worker forwards; tests call it directly). Routes, under `…/api/`:
 *
 * | method | route | answer |
 * |---|---|---|
 * | GET | `ping`, `health`, `version` | liveness, loaded models, app version |
 * | GET | `models`, `models/{name}` | names, production versions, signatures |
 * | POST | `models/{name}/invocations` | MLflow scoring protocol → `{"predictions": […]}` |
 * | POST | `predict` | sentiment: `{"text"}` → `{"label","score","probabilities","latency_ms"}` |
 * | GET | `metrics` | Prometheus text exposition of monitoring's figures |
 */
export interface RestHandlerOptions {
  sdk: Pick<ServingSdk, 'modelTask' | 'productionVersion' | 'predictInputs' | 'listModels' | 'loaded'>;
  limits: () => Promise<ServingLimits>;
  /** The model `POST /api/predict` answers with. */
  sentimentModel?: string;
  /** Prometheus exposition text for `GET /api/metrics` (monitoring); the route is 404 without it. */
  metrics?: () => Promise<string>;
}

export type RestHandler = (request: Request, route?: string) => Promise<Response>;

/** The part of a URL path after its `/api/` segment (`models/coin-year/invocations`). */
export function apiRouteOf(url: string): string | undefined {
  const { pathname } = new URL(url);
  const at = pathname.indexOf('/api/');
  if (at >= 0) return pathname.slice(at + '/api/'.length);
  return pathname.endsWith('/api') ? '' : undefined;
}

/** MLflow-style prediction values: a number for regression, `{label, score, probabilities}` for classes. */
export function formatPrediction(prediction: Prediction, labels?: readonly string[]): unknown {
  if (prediction.kind === 'regression') return prediction.value;
  const probabilities =
    labels && labels.length === prediction.probabilities.length
      ? Object.fromEntries(labels.map((label, i) => [label, prediction.probabilities[i]]))
      : prediction.probabilities;
  return { label: prediction.label, score: prediction.score, probabilities };
}

const versionHeaders = (result: BatchPrediction) => ({ 'loupe-model': result.model, 'loupe-model-version': String(result.version) });

async function readBody(request: Request, limits: ServingLimits): Promise<unknown> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
    throw new RequestValidationError(413, 'payload_too_large', 'body', `is ${declared} bytes; the limit is ${limits.maxBodyBytes}`);
  }
  return parseJsonBody(new Uint8Array(await request.arrayBuffer()), limits.maxBodyBytes);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ServingError(404, 'not_found', `"${segment}" is not a valid path segment`);
  }
}

function methodNotAllowed(allowed: string): Response {
  return errorResponse(405, 'method_not_allowed', `Use ${allowed} for this endpoint.`, undefined, { allow: allowed });
}

/**
 * Builds the REST handler over an SDK.
 * @example const handle = createRestHandler({ sdk, limits: async () => DEFAULT_SERVING_LIMITS });
 * const response = await handle(new Request('http://x/api/ping'));
 */
export function createRestHandler(options: RestHandlerOptions): RestHandler {
  const { sdk, limits } = options;
  const sentimentModel = options.sentimentModel ?? 'sentiment';

  async function invocations(request: Request, model: string): Promise<Response> {
    const task = await sdk.modelTask(model);
    const currentLimits = await limits();
    const body = await readBody(request, currentLimits);
    const { inputs, fields } = parseInvocation(body, task, currentLimits);
    // An image the model cannot decode is named as the client wrote it (`dataframe_split.data[0][1]`).
    const result = await sdk.predictInputs(model, inputs, { source: 'rest', field: (i, key) => fields[i]?.[key] ?? `inputs[${i}].${key}` });
    return jsonResponse(200, { predictions: result.predictions.map((p) => formatPrediction(p, result.labels)) }, versionHeaders(result));
  }

  async function predictText(request: Request): Promise<Response> {
    const task = await sdk.modelTask(sentimentModel);
    const currentLimits = await limits();
    const { text } = parseTextPredict(await readBody(request, currentLimits), currentLimits);
    if (TASKS[task].input !== 'text') throw new ServingError(500, 'prediction_failed', `Model "${sentimentModel}" serves ${task}, which does not take text.`);
    const result = await sdk.predictInputs(sentimentModel, [{ text }], { source: 'rest' });
    const prediction = result.predictions[0]!;
    if (prediction.kind !== 'classification') throw new ServingError(500, 'prediction_failed', `Model "${sentimentModel}" did not return a label.`);
    // The model's own classes: a 2-class model answers with two probabilities, never a phantom third.
    const { probabilities } = formatPrediction(prediction, result.labels) as { probabilities: unknown };
    return jsonResponse(200, { label: prediction.label, score: prediction.score, probabilities, latency_ms: Math.round(result.latencyMs * 10) / 10 }, versionHeaders(result));
  }

  async function route(request: Request, path: string): Promise<Response> {
    const segments = path.split('/').filter(Boolean).map(decodeSegment);
    const method = request.method.toUpperCase();
    const get = (answer: () => Promise<Response>) => (method === 'GET' || method === 'HEAD' ? answer() : Promise.resolve(methodNotAllowed('GET')));
    const post = (answer: () => Promise<Response>) => (method === 'POST' ? answer() : Promise.resolve(methodNotAllowed('POST')));
    const [head, name, action, ...rest] = segments;
    if (segments.length === 1 && head === 'ping') return get(async () => jsonResponse(200, { status: 'ok' }));
    if (segments.length === 1 && head === 'version') return get(async () => jsonResponse(200, { version: APP_VERSION, commit: GIT_COMMIT || null }));
    if (segments.length === 1 && head === 'health') {
      return get(async () => jsonResponse(200, { status: 'ok', loaded: sdk.loaded().map(({ model, version }) => ({ model, version })) }));
    }
    if (segments.length === 1 && head === 'predict') return post(() => predictText(request));
    if (segments.length === 1 && head === 'metrics' && options.metrics) {
      const metrics = options.metrics;
      return get(async () => new Response(await metrics(), { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }));
    }
    if (head === 'models' && segments.length === 1) return get(async () => jsonResponse(200, { models: (await sdk.listModels()).map(summaryJson) }));
    if (head === 'models' && name !== undefined && action === undefined) {
      return get(async () => {
        await sdk.modelTask(name); // 404 for unknown names
        const summary = (await sdk.listModels()).find((m) => m.name === name);
        return jsonResponse(200, summaryJson(summary!));
      });
    }
    if (head === 'models' && name !== undefined && action === 'invocations' && rest.length === 0) return post(() => invocations(request, name));
    return errorResponse(404, 'not_found', `No API endpoint at "api/${path}". See docs/api.md: GET api/models, POST api/models/{name}/invocations, POST api/predict.`);
  }

  return async (request, path = apiRouteOf(request.url) ?? '') => {
    try {
      return await route(request, path);
    } catch (error) {
      return responseForError(error);
    }
  };
}

function summaryJson(summary: Awaited<ReturnType<ServingSdk['listModels']>>[number]) {
  return {
    name: summary.name,
    task: summary.task ?? null,
    production_version: summary.productionVersion ?? null,
    aliases: summary.aliases,
    versions: summary.versions.map((v) => ({ version: v.version, status: v.status, created_at: new Date(v.createdAt).toISOString() })),
    signature: summary.signature ?? null,
    invocations: `api/models/${encodeURIComponent(summary.name)}/invocations`,
  };
}
