import { describe, expect, it } from 'vitest';
import { LabelMatcher, matchesAll, type MatchType } from '../../src/alerts/routing/matcher.ts';
import { parseMatchers } from '../../src/alerts/routing/parse-matchers.ts';

/** The message a call throws, so tests compare it exactly (toThrow(string) only looks for a substring). */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return '(nothing thrown)';
}

describe('LabelMatcher', () => {
  it.each<[MatchType, string, string, boolean]>([
    ['=', 'billing', 'billing', true],
    ['=', 'billing', 'billing-eu', false],
    ['=', 'billing', '', false],
    ['=', '', '', true],
    ['!=', 'billing', 'support', true],
    ['!=', 'billing', 'billing', false],
    ['!=', 'billing', '', true],
    // Regular expressions are anchored at both ends, as in Alertmanager.
    ['=~', 'critical|error', 'critical', true],
    ['=~', 'critical|error', 'error', true],
    ['=~', 'critical|error', 'criticality', false],
    ['=~', 'critical|error', 'not-critical', false],
    ['=~', 'bill', 'billing', false],
    ['=~', 'bill.*', 'billing', true],
    ['=~', '.*', '', true],
    ['=~', '.+', '', false],
    ['=~', 'a|b', 'ab', false],
    ['!~', 'plan-.+', 'plan-upgrade', false],
    ['!~', 'plan-.+', 'invoice-sync', true],
    ['!~', 'plan-.+', 'xplan-upgrade', true],
    ['!~', 'plan-.+', '', true],
  ])('%s "%s" against "%s" is %s', (type, value, input, expected) => {
    expect(LabelMatcher.of({ name: 'x', type, value }).matches(input)).toBe(expected);
  });

  it('reads a label an alert lacks as the empty string', () => {
    const labels = { team: 'billing' };
    expect(matchesAll(parseMatchers('workflow=""'), labels)).toBe(true);
    expect(matchesAll(parseMatchers('workflow!="plan-upgrade"'), labels)).toBe(true);
    expect(matchesAll(parseMatchers('workflow=~".+"'), labels)).toBe(false);
    expect(matchesAll(parseMatchers('team="billing", workflow=~".*"'), labels)).toBe(true);
    expect(matchesAll([], labels)).toBe(true);
  });

  it.each<[string, string]>([
    ['{ "name": "te-am", "type": "=", "value": "x" }', 'invalid label name "te-am"'],
    ['{ "name": "team", "type": "=~", "value": "(" }', 'invalid regular expression "(": Unterminated group'],
    ['{ "name": "team", "type": "==", "value": "x" }', 'unknown match type "=="'],
  ])('refuses %s: %s', (spec, message) => {
    expect(thrown(() => LabelMatcher.of(JSON.parse(spec)))).toBe(message);
  });

  it('prints and serialises as the string form and plain data', () => {
    const m = LabelMatcher.of({ name: 'severity', type: '=~', value: 'critical|"error"' });
    expect(String(m)).toBe('severity=~"critical|\\"error\\""');
    expect(JSON.parse(JSON.stringify(m))).toEqual({ name: 'severity', type: '=~', value: 'critical|"error"' });
    expect(parseMatchers(String(m)).map((x) => x.toJSON())).toEqual([m.toJSON()]);
  });
});

describe('parseMatchers', () => {
  it.each<[string, string[]]>([
    ['team="billing", severity=~"critical|error"', ['team="billing"', 'severity=~"critical|error"']],
    ['{team="billing",severity=~"critical|error"}', ['team="billing"', 'severity=~"critical|error"']],
    ['  { a = "1" , b !~ "2" }  ', ['a="1"', 'b!~"2"']],
    ['team=billing', ['team="billing"']],
    ['team=billing,', ['team="billing"']],
    ['{team!=billing,}', ['team!="billing"']],
    ['detector=~slo-.*', ['detector=~"slo-.*"']],
    ['"team"="billing"', ['team="billing"']],
    ['summary="a \\"b\\" \\\\ c\\n"', ['summary="a \\"b\\" \\\\ c\\n"']],
    ['emoji="\\u00e9t\u00e9 🙂"', ['emoji="été 🙂"']],
    ['workflow=""', ['workflow=""']],
    ['', []],
    ['{}', []],
  ])('%s', (text, expected) => {
    expect(parseMatchers(text).map(String)).toEqual(expected);
  });

  it.each<[string, string]>([
    [',', 'column 1: unexpected ",": expected a label name'],
    ['{,}', 'column 2: unexpected ",": expected a label name'],
    ['{', 'unexpected end of input: expected "}"'],
    ['}', 'column 1: unexpected "}": expected a label name'],
    ['{team="billing"', 'unexpected end of input: expected "}"'],
    ['team="billing"}', 'column 15: unexpected "}": expected a comma'],
    ['team="billing" severity="critical"', 'column 16: unexpected "s": expected a comma'],
    ['{team="billing"} x', 'column 18: unexpected "x": expected end of input after "}"'],
    ['team', 'unexpected end of input: expected one of =, !=, =~, !~'],
    ['team<billing', 'column 1: invalid label name "team<billing"'],
    ['team =: billing', 'column 9: unexpected "b": expected a comma'],
    ['team=', 'unexpected end of input: expected a label value'],
    ['team=,', 'column 6: unexpected ",": expected a label value'],
    ['team="billing', 'column 6: quoted string is not closed'],
    ['team="bill\\wing"', 'column 11: invalid escape "\\\\w" in a quoted string'],
    ['team=bill\\n', 'column 10: unexpected "\\\\": expected a comma'],
    ['te-am="x"', 'column 1: invalid label name "te-am"'],
    ['"a b"="x"', 'column 1: invalid label name "a b"'],
    ['team="billing", x=~"(a"', 'column 17: invalid regular expression "(a": Unterminated group'],
  ])('refuses %j: %s', (text, message) => {
    expect(thrown(() => parseMatchers(text))).toBe(message);
  });
});
