/**
 * Any value that survives `JSON.stringify` / `JSON.parse` unchanged. Opaque states (trainer, strategies,
 * metrics) are stored as this: the checkpoint does not interpret them.
 *
 * Caveat of JSON itself: `NaN`/`Infinity` become `null` and `-0` becomes `0`; states that need them must
 * encode them (for example as strings). Finite doubles round-trip exactly (shortest round-trip printing).
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
