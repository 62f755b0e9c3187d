import { SparseLearningError, outOfRangeError, unknownIdError } from '../errors.js';

/**
 * One option of a plugin, as plain data: a user's plugin file can write it without importing anything.
 * `default: undefined` makes the option optional (the plugin then decides, e.g. from the run's settings).
 */
export type OptionSpec<T = unknown> =
  | { readonly type: 'boolean'; readonly default?: T; readonly description: string }
  | {
      readonly type: 'number' | 'integer';
      readonly default?: T;
      readonly description: string;
      /** Inclusive lower bound. */
      readonly min?: number;
      /** Exclusive lower bound. */
      readonly greaterThan?: number;
      /** Inclusive upper bound. */
      readonly max?: number;
      /** Exclusive upper bound. */
      readonly lessThan?: number;
    }
  | { readonly type: 'string'; readonly default?: T; readonly description: string; readonly values?: readonly string[] }
  | {
      /** Any JSON value, checked by `check` (which throws a plain `Error` naming what is wrong, or returns the value). */
      readonly type: 'json';
      readonly default?: T;
      readonly description: string;
      /** A human description of the expected shape, for messages and help (e.g. `"[{ epoch, value }, …]"`). */
      readonly expected: string;
      readonly check: (value: unknown) => T;
    };

/** A plugin's options: option name → spec. */
export type OptionsSchema = Readonly<Record<string, OptionSpec>>;

/** The typed options object a schema describes (what the plugin's factory receives). */
export type OptionsOf<S extends OptionsSchema> = { readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** Builders for {@link OptionSpec}s that carry the value type into {@link OptionsOf}. */
export const option = {
  boolean(defaultValue: boolean, description: string): OptionSpec<boolean> {
    return { type: 'boolean', default: defaultValue, description };
  },
  number<D extends number | undefined>(
    defaultValue: D,
    description: string,
    bounds: { min?: number; greaterThan?: number; max?: number; lessThan?: number } = {},
  ): OptionSpec<D extends undefined ? number | undefined : number> {
    return { type: 'number', default: defaultValue as never, description, ...bounds };
  },
  integer<D extends number | undefined>(
    defaultValue: D,
    description: string,
    bounds: { min?: number; max?: number } = {},
  ): OptionSpec<D extends undefined ? number | undefined : number> {
    return { type: 'integer', default: defaultValue as never, description, ...bounds };
  },
  oneOf<V extends string>(values: readonly V[], defaultValue: V, description: string): OptionSpec<V> {
    return { type: 'string', default: defaultValue, description, values };
  },
  json<T>(defaultValue: T, description: string, expected: string, check: (value: unknown) => T): OptionSpec<T> {
    return { type: 'json', default: defaultValue, description, expected, check };
  },
} as const;

/** Human-readable range of a numeric option, e.g. `"0 < eta"`, `"an integer >= 1"`. */
export function describeOption(spec: OptionSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return spec.values ? `one of ${spec.values.join(', ')}` : 'a string';
    case 'json':
      return spec.expected;
    default: {
      const parts: string[] = [];
      if (spec.greaterThan !== undefined) parts.push(`> ${spec.greaterThan}`);
      if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
      if (spec.lessThan !== undefined) parts.push(`< ${spec.lessThan}`);
      if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      return parts.length ? `${kind} ${parts.join(' and ')}` : kind;
    }
  }
}

/** Who owns the options being parsed, for messages: `growth 'momentum'`. */
export interface OptionsOwner {
  readonly kind: string;
  readonly id: string;
  readonly options: OptionsSchema;
}

function owner(o: OptionsOwner): string {
  return `${o.kind} '${o.id}'`;
}

function parseOne(o: OptionsOwner, name: string, spec: OptionSpec, value: unknown): unknown {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  const invalid = (expected: string) =>
    new SparseLearningError(
      'E_CONFIG_INVALID',
      `${owner(o)}: option '${name}' = ${shown} is invalid: expected ${expected}`,
      { kind: o.kind, plugin: o.id, option: name, value, expected },
    );
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string') throw invalid(describeOption(spec));
      if (spec.values && !spec.values.includes(value)) {
        const error = unknownIdError(`${o.kind} '${o.id}' option '${name}'`, value, spec.values);
        throw new SparseLearningError('E_UNKNOWN_ID', error.message.replace(/^\[E_UNKNOWN_ID\] /, ''), {
          ...error.details,
          plugin: o.id,
          option: name,
        });
      }
      return value;
    case 'json':
      try {
        return spec.check(value);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new SparseLearningError(
          'E_CONFIG_INVALID',
          `${owner(o)}: option '${name}' = ${JSON.stringify(value)} is invalid: ${reason} (expected ${spec.expected})`,
          { kind: o.kind, plugin: o.id, option: name, value, expected: spec.expected },
        );
      }
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value) || (spec.type === 'integer' && !Number.isInteger(value))) {
        throw invalid(describeOption(spec));
      }
      const low = (spec.min !== undefined && value < spec.min) || (spec.greaterThan !== undefined && value <= spec.greaterThan);
      const high = (spec.max !== undefined && value > spec.max) || (spec.lessThan !== undefined && value >= spec.lessThan);
      if (low || high) {
        const error = outOfRangeError(`${owner(o)} option '${name}'`, value, describeOption(spec));
        throw new SparseLearningError('E_OUT_OF_RANGE', error.message.replace(/^\[E_OUT_OF_RANGE\] /, ''), {
          ...error.details,
          kind: o.kind,
          plugin: o.id,
          option: name,
        });
      }
      return value;
    }
  }
}

/**
 * Validates `input` against a plugin's options schema and fills in the defaults.
 *
 * @throws `E_CONFIG_INVALID` for an unknown option (listing the valid ones) or a value of the wrong type,
 *   `E_OUT_OF_RANGE` for a number outside its bounds, `E_UNKNOWN_ID` for a value outside a closed set —
 *   each naming the plugin (kind and id) and the option.
 */
export function parsePluginOptions<S extends OptionsSchema>(o: OptionsOwner & { options: S }, input: unknown = {}): OptionsOf<S> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `${owner(o)}: options must be an object, got ${JSON.stringify(input)}`, {
      kind: o.kind,
      plugin: o.id,
      value: input,
    });
  }
  const valid = Object.keys(o.options);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input as Record<string, unknown>)) {
    if (!Object.prototype.hasOwnProperty.call(o.options, name)) {
      throw new SparseLearningError(
        'E_CONFIG_INVALID',
        `${owner(o)} has no option '${name}'; valid options: ${valid.length ? valid.join(', ') : 'none'}`,
        { kind: o.kind, plugin: o.id, option: name, valid },
      );
    }
    if (value !== undefined) out[name] = parseOne(o, name, o.options[name], value);
  }
  for (const [name, spec] of Object.entries(o.options)) if (!(name in out) && spec.default !== undefined) out[name] = spec.default;
  return out as OptionsOf<S>;
}
