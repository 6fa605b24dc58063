// Module resolution hooks for register.mjs: the bare specifier `axios` becomes the alias.
let alias = 'axios';

/** @param {{ alias: string }} data */
export function initialize(data) {
  alias = data.alias;
}

/**
 * @param {string} specifier
 * @param {object} context
 * @param {(specifier: string, context: object) => Promise<unknown>} nextResolve
 */
export function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier === 'axios' ? alias : specifier, context);
}
