/** The app's version and the commit it was built from (empty when unknown), recorded with every run. */
export const APP_VERSION: string = typeof __APP_VERSION__ === 'string' ? __APP_VERSION__ : '0.0.0-dev';
export const GIT_COMMIT: string = typeof __GIT_COMMIT__ === 'string' ? __GIT_COMMIT__ : '';
