import type { WorkflowDefinition } from '../../domain/workflow.ts';
import type { DetectorsConfig } from './config.ts';
import type { EventMatcher } from './detector.ts';

/**
 * What the event detectors read, and how far back they remember: the events to replay through
 * them after a restart so that their state (first invoices, open tickets, charged runs) is
 * what it was. Source silence is left out: it learns the sources again from live traffic.
 */
export function detectorInputs(config: DetectorsConfig, workflows: readonly WorkflowDefinition[]): { matchers: EventMatcher[]; horizonMs: number } {
  const matchers: EventMatcher[] = [];
  let horizonMs = 0;
  for (const d of config.duplicateEffects) {
    matchers.push(...d.match);
    horizonMs = Math.max(horizonMs, d.window);
  }
  for (const d of config.stuck) {
    matchers.push(...d.start, ...d.progress, ...d.end);
    horizonMs = Math.max(horizonMs, d.forgetAfter);
  }
  for (const d of config.exclusiveOutcomes) {
    matchers.push(...d.outcomes.map((o) => ({ source: o.source, type: o.type })));
    horizonMs = Math.max(horizonMs, d.window);
  }
  for (const d of config.partialFailures) {
    const workflow = workflows.find((w) => w.name === d.workflow);
    if (!workflow) continue;
    matchers.push(workflow.trigger, ...workflow.steps.flatMap((s) => [{ source: s.source, type: s.type }, ...s.failOn.map((type) => ({ source: s.source, type }))]));
    horizonMs = Math.max(horizonMs, d.forgetAfter);
  }
  const unique = new Map(matchers.filter(Boolean).map((m) => [`${m.source}\u0000${m.type}`, { source: m.source, type: m.type }]));
  return { matchers: [...unique.values()], horizonMs };
}
