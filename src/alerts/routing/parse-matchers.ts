import { LABEL_NAME } from './labels.ts';
import { LabelMatcher, MatcherError, type MatchType } from './matcher.ts';

/**
 * Reads the string form of a matcher list, as Alertmanager's `matchers:` and amtool do:
 * `team="billing", severity=~"critical|error"`, optionally in braces, with a trailing comma
 * allowed. Names and values may be double-quoted (JSON escapes: \" \\ \n \t \uXXXX …) or bare
 * (no spaces, quotes, braces, commas or operator characters). An empty input is an empty list.
 * Throws MatcherError with the column (1-based) of the problem.
 */
export function parseMatchers(text: string): LabelMatcher[] {
  return new MatcherReader(text).readAll();
}

/** Characters that end a bare name or value. */
const RESERVED = new Set(['{', '}', ',', '=', '!', '~', '"', "'", '\\']);

class MatcherReader {
  private readonly text: string;
  private at = 0;

  constructor(text: string) {
    this.text = text;
  }

  readAll(): LabelMatcher[] {
    this.skipSpace();
    const braced = this.peek() === '{';
    if (braced) this.at++;
    const matchers: LabelMatcher[] = [];
    for (;;) {
      this.skipSpace();
      if (this.done() || (braced && this.peek() === '}')) break;
      matchers.push(this.readMatcher());
      this.skipSpace();
      if (this.peek() === ',') {
        this.at++;
        continue;
      }
      if (this.done() || (braced && this.peek() === '}')) break;
      throw this.unexpected(braced ? 'a comma or "}"' : 'a comma');
    }
    if (braced) {
      if (this.done()) throw new MatcherError('unexpected end of input: expected "}"');
      this.at++;
      this.skipSpace();
    }
    if (!this.done()) throw this.unexpected(braced ? 'end of input after "}"' : 'a label name');
    return matchers;
  }

  private readMatcher(): LabelMatcher {
    const start = this.at;
    const name = this.readToken('a label name');
    // Checked before the operator, so that `team<billing` is reported as the name it is.
    if (!LABEL_NAME.test(name)) throw new MatcherError(`column ${start + 1}: invalid label name ${JSON.stringify(name)}`);
    this.skipSpace();
    const type = this.readOperator();
    this.skipSpace();
    const value = this.readToken('a label value');
    try {
      return LabelMatcher.of({ name, type, value });
    } catch (error) {
      if (error instanceof MatcherError) throw new MatcherError(`column ${start + 1}: ${error.message}`);
      throw error;
    }
  }

  private readOperator(): MatchType {
    for (const op of ['=~', '!~', '!=', '='] as const) {
      if (this.text.startsWith(op, this.at)) {
        this.at += op.length;
        return op;
      }
    }
    throw this.unexpected('one of =, !=, =~, !~');
  }

  private readToken(what: string): string {
    if (this.peek() === '"') return this.readQuoted();
    const start = this.at;
    while (!this.done() && !RESERVED.has(this.peek()!) && !/\s/.test(this.peek()!)) this.at++;
    if (this.at === start) throw this.unexpected(what);
    return this.text.slice(start, this.at);
  }

  private readQuoted(): string {
    const start = this.at;
    this.at++;
    while (!this.done() && this.peek() !== '"') {
      if (this.peek() === '\\') {
        const escape = this.text.slice(this.at, this.at + 2);
        const unicode = /^\\u[0-9a-fA-F]{4}/.exec(this.text.slice(this.at));
        if (unicode) this.at += 6;
        else if (/^\\["\\/bfnrt]$/.test(escape)) this.at += 2;
        else throw new MatcherError(`column ${this.at + 1}: invalid escape ${JSON.stringify(escape)} in a quoted string`);
      } else {
        this.at++;
      }
    }
    if (this.done()) throw new MatcherError(`column ${start + 1}: quoted string is not closed`);
    this.at++;
    return JSON.parse(this.text.slice(start, this.at).replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)) as string;
  }

  private unexpected(expected: string): MatcherError {
    if (this.done()) return new MatcherError(`unexpected end of input: expected ${expected}`);
    return new MatcherError(`column ${this.at + 1}: unexpected ${JSON.stringify(this.peek())}: expected ${expected}`);
  }

  private skipSpace(): void {
    while (!this.done() && /\s/.test(this.peek()!)) this.at++;
  }

  private peek(): string | undefined {
    return this.text[this.at];
  }

  private done(): boolean {
    return this.at >= this.text.length;
  }
}
