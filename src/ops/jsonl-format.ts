/** The constants of AIMemo JSON Lines (the format is described in `jsonl.ts`), shared by export and import. */

/** The `format` of an AIMemo JSON Lines header. */
export const JSONL_FORMAT = 'aimemo-jsonl';
/** The format version this package writes, and the newest it reads. Version 2 added `expiresAt`. */
export const JSONL_VERSION = 2;
