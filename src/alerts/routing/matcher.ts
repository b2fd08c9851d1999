import { LABEL_NAME, labelValue, type Labels } from './labels.ts';

export type MatchType = '=' | '!=' | '=~' | '!~';

export const MATCH_TYPES: readonly MatchType[] = ['=', '!=', '=~', '!~'];

/** A matcher as data: what config, silences and the API carry and what is persisted. */
export interface MatcherSpec {
  name: string;
  type: MatchType;
  value: string;
}

/** Thrown by `LabelMatcher.of` for a bad name or a regular expression that does not compile. */
export class MatcherError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatcherError';
  }
}

/**
 * One label matcher, as in Alertmanager: `=` and `!=` compare the whole value, `=~` and `!~`
 * match a regular expression anchored at both ends (`^(?:…)$`), so `team=~"bill"` does not
 * match "billing". A label the alert does not have is the empty string.
 *
 * JavaScript regular expressions, not RE2: the syntax Alertmanager configs use (classes,
 * alternation, repetition, `(?:…)`) reads the same; lookarounds are accepted here and not there.
 */
export class LabelMatcher implements MatcherSpec {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
  readonly #regex: RegExp | undefined;

  private constructor(spec: MatcherSpec, regex: RegExp | undefined) {
    this.name = spec.name;
    this.type = spec.type;
    this.value = spec.value;
    this.#regex = regex;
  }

  static of(spec: MatcherSpec): LabelMatcher {
    if (!LABEL_NAME.test(spec.name)) throw new MatcherError(`invalid label name "${spec.name}"`);
    if (!MATCH_TYPES.includes(spec.type)) throw new MatcherError(`unknown match type "${spec.type}"`);
    if (spec.type === '=' || spec.type === '!=') return new LabelMatcher(spec, undefined);
    try {
      return new LabelMatcher(spec, new RegExp(`^(?:${spec.value})$`));
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '') : String(error);
      throw new MatcherError(`invalid regular expression "${spec.value}": ${reason}`);
    }
  }

  matches(value: string): boolean {
    switch (this.type) {
      case '=':
        return value === this.value;
      case '!=':
        return value !== this.value;
      case '=~':
        return this.#regex!.test(value);
      case '!~':
        return !this.#regex!.test(value);
    }
  }

  /** `severity=~"critical|error"`: the string form `parseMatchers` reads back. */
  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }

  toJSON(): MatcherSpec {
    return { name: this.name, type: this.type, value: this.value };
  }
}

/** True when every matcher matches (an empty list matches everything, as the root route does). */
export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  return matchers.every((m) => m.matches(labelValue(labels, m.name)));
}

/** `{team="billing",severity=~"critical|error"}`, in the order given. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map(String).join(',')}}`;
}
