/**
 * Serving errors and their HTTP form. Every error answers `{"error":{"code","message","field"?}}` and,
 * for MLflow clients, `error_code` and `message` at the top level too (mlflow/pyfunc/scoring_server).
 * This module is shared with the service worker: it must not import anything heavy.
 */

/** MLflow's `databricks_pb2` error codes that Loupe answers with. */
export type MlflowErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'ENDPOINT_NOT_FOUND'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL_ERROR';

/** Loupe's own, finer error codes (`error.code`). */
export type ServingErrorCode =
  | 'malformed_json'
  | 'invalid_request'
  | 'invalid_image'
  | 'payload_too_large'
  | 'unknown_model'
  | 'unknown_version'
  | 'no_production_version'
  | 'no_studio_tab'
  | 'studio_timeout'
  | 'not_found'
  | 'method_not_allowed'
  | 'prediction_failed';

const MLFLOW_CODE: Record<ServingErrorCode, MlflowErrorCode> = {
  malformed_json: 'BAD_REQUEST',
  invalid_request: 'INVALID_PARAMETER_VALUE',
  invalid_image: 'INVALID_PARAMETER_VALUE',
  payload_too_large: 'REQUEST_LIMIT_EXCEEDED',
  unknown_model: 'RESOURCE_DOES_NOT_EXIST',
  unknown_version: 'RESOURCE_DOES_NOT_EXIST',
  no_production_version: 'TEMPORARILY_UNAVAILABLE',
  no_studio_tab: 'TEMPORARILY_UNAVAILABLE',
  studio_timeout: 'DEADLINE_EXCEEDED',
  not_found: 'ENDPOINT_NOT_FOUND',
  method_not_allowed: 'BAD_REQUEST',
  prediction_failed: 'INTERNAL_ERROR',
};

export interface ErrorBody {
  error: { code: ServingErrorCode; message: string; field?: string };
  error_code: MlflowErrorCode;
  message: string;
}

/** An error with an HTTP status; anything else thrown while serving becomes a 500. */
export class ServingError extends Error {
  override name = 'ServingError';
  constructor(
    readonly status: number,
    readonly code: ServingErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  get errorCode(): MlflowErrorCode {
    return MLFLOW_CODE[this.code];
  }
}

/**
 * A request that does not fit its schema or limits: 400 (not JSON), 422 (wrong shape or not an image)
 * or 413 (too large). Always names the offending field, e.g. `inputs[0].front_image_base64`.
 */
export class RequestValidationError extends ServingError {
  override name = 'RequestValidationError';
  declare readonly field: string;
  constructor(
    status: 400 | 413 | 422,
    code: ServingErrorCode,
    field: string,
    /** What is wrong with the field, without its name (the Predict form words the field its own way). */
    readonly detail: string,
  ) {
    super(status, code, `${field}: ${detail}`, field);
  }
}

export class UnknownModelError extends ServingError {
  override name = 'UnknownModelError';
  constructor(readonly model: string) {
    super(404, 'unknown_model', `No model named "${model}" is registered. GET api/models lists the models this studio serves.`);
  }
}

export class UnknownVersionError extends ServingError {
  override name = 'UnknownVersionError';
  constructor(model: string, version: number) {
    super(404, 'unknown_version', `Model "${model}" has no version ${version}.`);
  }
}

export class NoProductionVersionError extends ServingError {
  override name = 'NoProductionVersionError';
  constructor(model: string, detail = 'no version of it has been promoted yet') {
    super(503, 'no_production_version', `Model "${model}" has no production version: ${detail}. Promote one in the Registry.`);
  }
}

export function errorBody(code: ServingErrorCode, message: string, field?: string): ErrorBody {
  return { error: field ? { code, message, field } : { code, message }, error_code: MLFLOW_CODE[code], message };
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });
}

export function errorResponse(status: number, code: ServingErrorCode, message: string, field?: string, headers?: Record<string, string>): Response {
  return jsonResponse(status, errorBody(code, message, field), headers);
}

/** Any thrown value → its HTTP answer; unexpected errors become 500 with their message. */
export function responseForError(error: unknown): Response {
  if (error instanceof ServingError) {
    const headers: Record<string, string> = error.status === 503 ? { 'retry-after': '30' } : {};
    return errorResponse(error.status, error.code, error.message, error.field, headers);
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return errorResponse(500, 'prediction_failed', `The prediction failed: ${message}`);
}
