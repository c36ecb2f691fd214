/** A model spec or saved model that no task of this version of Loupe can build. */
export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

/** A saved model without the `loupe` metadata that says which task and architecture it is. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/** A stored sample that lacks an input its task needs (an image of a pair, its text). */
export class MissingInputError extends Error {
  override name = 'MissingInputError';
}
