// The provider presets: each returns the attachAuth options for one API.

import { movemint } from './movemint.js';
import { musement } from './musement.js';
import { mvmnt } from './mvmnt.js';
import { myparcel } from './myparcel.js';

/** Ready-made options for the APIs this package serves out of the box. */
export const presets = { mvmnt, movemint, musement, myparcel } as const;

export type { MvmntPresetOptions } from './mvmnt.js';
export type { MovemintPresetOptions, MovemintAuthorizeOptions } from './movemint.js';
export type { MusementPresetOptions } from './musement.js';
export type { MyParcelPresetOptions } from './myparcel.js';
export type { PresetOptions } from './preset-options.js';
export { movemintAuthorizeUrl } from './movemint.js';
