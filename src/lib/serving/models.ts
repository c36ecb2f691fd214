/** Cache key of a loaded version. */
export const versionKey = (model: string, version: number) => `${model}@${version}`;
