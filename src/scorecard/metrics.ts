import { Counter, Gauge, type Registry } from 'prom-client';

export type SendOutcome = 'sent' | 'failed' | 'already_sent' | 'held_elsewhere' | 'lost_claim';

/** What the scorecard sender exports; `team` comes from the config's short list of teams. */
export class ScorecardMetrics {
  readonly sends: Counter<'team' | 'outcome'>;
  readonly retries: Counter<'team'>;
  readonly lastSent: Gauge<'team'>;

  constructor(registry: Registry) {
    this.sends = new Counter({ name: 'seamwatch_scorecard_sends_total', help: 'Weekly scorecard send attempts by outcome', labelNames: ['team', 'outcome'], registers: [registry] });
    this.retries = new Counter({ name: 'seamwatch_scorecard_send_retries_total', help: 'Failed scorecard sends that were retried', labelNames: ['team'], registers: [registry] });
    this.lastSent = new Gauge({ name: 'seamwatch_scorecard_last_sent_timestamp_seconds', help: 'When a team\'s scorecard was last accepted by the mail server', labelNames: ['team'], registers: [registry] });
  }
}
