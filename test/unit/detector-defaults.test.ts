import { describe, expect, it } from 'vitest';
import { createDetectors } from '../../src/alerts/detectors/build.ts';
import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { DEFAULT_DUPLICATE_WINDOW_MS } from '../../src/alerts/detectors/duplicate-effect.ts';
import { formatPath } from '../../src/config/load.ts';
import type { WorkflowDefinition } from '../../src/domain/workflow.ts';
import type { WorkflowEvent } from '../../src/domain/event.ts';
import type { DetectorSignal } from '../../src/alerts/types.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 9);

const PLAN_UPGRADE: WorkflowDefinition = {
  name: 'plan-upgrade',
  owner: 'billing-platform',
  trigger: { source: 'crm', type: 'subscription.upgraded' },
  steps: [{ name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] }],
  compensation: [],
  deadline: 5 * MIN,
};

const problems = (detectors: unknown) => {
  const result = detectorsSchema.safeParse(detectors);
  return result.success ? [] : result.error.issues.map((i) => `${formatPath(['detectors', ...i.path] as (string | number)[])}: ${i.message}`);
};

const event = (id: string, time: number, data: Record<string, unknown>): WorkflowEvent =>
  ({ id, source: 'billing', type: 'invoice.created', time, correlationId: `c-${id}`, data, origin: { topic: 't', partition: 0, offset: Number(id.replace(/\D/g, '')) } }) as unknown as WorkflowEvent;

describe('a detector\'s owner and window default where the default is obvious', () => {
  it('a detector that names a workflow takes the workflow\'s owner', () => {
    const config = detectorsSchema.parse({
      duplicateEffects: [{ name: 'duplicate-invoice', workflow: 'plan-upgrade', match: { source: 'billing', type: 'invoice.created' }, businessKey: ['account_id'] }],
    });
    const set = createDetectors(config, [PLAN_UPGRADE]);
    const detector = set.onEvents[0]!;
    let state = detector.initial();
    const signals: DetectorSignal[] = [];
    for (const e of [event('e1', T0, { account_id: 'acc-1' }), event('e2', T0 + MIN, { account_id: 'acc-1' })]) {
      const step = detector.apply(state, e, e.time);
      state = step.state;
      signals.push(...(step.signals as DetectorSignal[]));
    }
    const tick = detector.tick(state, T0 + 2 * MIN);
    signals.push(...(tick.signals as DetectorSignal[]));
    expect(signals.filter((s) => s.kind === 'firing').map((s) => s.owner)).toEqual(['billing-platform']);
  });

  it('a duplicate effect without a window remembers a key for the documented default (24h)', () => {
    const config = detectorsSchema.parse({ duplicateEffects: [{ name: 'd', owner: 'o', match: { source: 'billing', type: 'invoice.created' }, businessKey: ['account_id'] }] });
    expect(DEFAULT_DUPLICATE_WINDOW_MS).toBe(24 * 60 * MIN);
    expect(config.duplicateEffects[0]!.window).toBe(DEFAULT_DUPLICATE_WINDOW_MS);
  });

  it('an owner is still required when no workflow would lend one', () => {
    expect(
      problems({
        duplicateEffects: [{ name: 'a', match: { source: 'billing', type: 'x' }, businessKey: ['k'] }],
        stuck: [{ name: 'b', start: { source: 'crm', type: 'x' }, after: '1h' }],
        exclusiveOutcomes: [{ name: 'c', outcomes: [{ name: 'p', source: 's', type: 'a' }, { name: 'q', source: 's', type: 'b' }] }],
        sourceSilence: [{ name: 'd', sources: ['billing'], after: '15m' }],
      }),
    ).toEqual([
      'detectors.duplicateEffects[0].owner: required when no workflow is named (a workflow lends its owner)',
      'detectors.stuck[0].owner: required when no workflow is named (a workflow lends its owner)',
      'detectors.exclusiveOutcomes[0].owner: required when no workflow is named (a workflow lends its owner)',
      'detectors.sourceSilence[0].owner: required when no workflow is named (a workflow lends its owner)',
    ]);
  });

  it('every event detector builds with only a workflow for its owner', () => {
    const config = detectorsSchema.parse({
      stuck: [{ name: 'b', workflow: 'plan-upgrade', start: { source: 'crm', type: 'x' }, after: '1h' }],
      exclusiveOutcomes: [{ name: 'c', workflow: 'plan-upgrade', outcomes: [{ name: 'p', source: 's', type: 'a' }, { name: 'q', source: 's', type: 'b' }] }],
      sourceSilence: [{ name: 'd', workflow: 'plan-upgrade', sources: ['billing'], after: '15m' }],
    });
    expect(createDetectors(config, [PLAN_UPGRADE]).onEvents).toHaveLength(3);
  });
});
