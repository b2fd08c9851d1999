import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditRecord, ControlStore } from '../domain/controls.ts';

export interface AuditTrailOptions {
  store: Pick<ControlStore, 'writeAudit'>;
  logger: Logger;
  now?: () => number;
  newId?: () => string;
}

/** One action in progress: ended once with its outcome (a row with the same id replaces the first). */
export interface AuditEntry {
  readonly id: string;
  end(outcome: 'ok' | 'failed' | 'refused', detail: string): Promise<void>;
}

/**
 * Every control action as a log line and an audit row: who (the API token's name), what, when,
 * with which arguments. A long action (a replay, a backfill) is written when it starts and
 * again when it ends, so one that died midway is still on record as started.
 */
export class AuditTrail {
  private readonly options: AuditTrailOptions;
  private readonly now: () => number;

  constructor(options: AuditTrailOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Records a finished action. */
  async record(actor: string, action: string, args: unknown, outcome: AuditRecord['outcome'], detail = ''): Promise<AuditRecord> {
    const record: AuditRecord = { id: (this.options.newId ?? randomUUID)(), at: this.now(), actor, action, args: JSON.stringify(args ?? {}), outcome, detail };
    this.options.logger.info({ audit: record.id, actor, action, args: record.args, outcome, detail }, 'control action');
    await this.write(record);
    return record;
  }

  /**
   * The action is done by the time it is audited: a row the store refuses does not undo it or
   * fail its answer. The log line above stays the record, and the failure is logged as an error.
   */
  private async write(record: AuditRecord): Promise<void> {
    try {
      await this.options.store.writeAudit(record);
    } catch (error) {
      this.options.logger.error({ err: error, audit: record.id, actor: record.actor, action: record.action, outcome: record.outcome }, 'audit row not written (the log line is the record)');
    }
  }

  /** Records an action as started; `end` records how it ended. */
  async begin(actor: string, action: string, args: unknown): Promise<AuditEntry> {
    const started = await this.record(actor, action, args, 'started');
    return {
      id: started.id,
      end: async (outcome, detail) => {
        // At least a millisecond later, so the end row always wins over the start row.
        const at = Math.max(this.now(), started.at + 1);
        this.options.logger.info({ audit: started.id, actor, action, outcome, detail }, 'control action ended');
        await this.write({ ...started, at, outcome, detail });
      },
    };
  }
}
