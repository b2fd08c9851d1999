/** The notifier was given options it cannot work with; lists every problem with its option name. */
export class PagerDutyOptionsError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid PagerDuty notifier options\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PagerDutyOptionsError';
    this.problems = problems;
  }
}
