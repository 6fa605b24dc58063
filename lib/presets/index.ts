// The provider presets: each returns the attachAuth options for one API.

import { movemint } from './movemint.js';
import { musement } from './musement.js';
import { mvmnt } from './mvmnt.js';
import { myparcel } from './myparcel.js';

/** Ready-made options for the APIs this package serves out of the box. */
export const presets = {
  /** MVMNT (api.mvmnt.io): client credentials, form body. */
  mvmnt,
  /** Movemint (www.movemint.cc): authorization code, refresh token, client credentials; revoke and token info. */
  movemint,
  /** Musement (api.musement.com): GET with a query string; client credentials, password, refresh token. */
  musement,
  /** MyParcel.com: client credentials with a JSON body and a scope; `sandbox`. */
  myparcel,
} as const;

export type { MvmntPresetOptions } from './mvmnt.js';
export type { MovemintPresetOptions, MovemintAuthorizeOptions } from './movemint.js';
export type { MusementPresetOptions } from './musement.js';
export type { MyParcelPresetOptions } from './myparcel.js';
export type { PresetOptions } from './preset-options.js';
export { movemintAuthorizeUrl } from './movemint.js';
