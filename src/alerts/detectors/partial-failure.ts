import { z } from 'zod';
import { formatDuration } from '../../domain/duration.ts';
import type { WorkflowDefinition } from '../../domain/workflow.ts';
import type { EventError, WorkflowEvent } from '../../domain/event.ts';
import { runIdOf } from '../../stitch/run.ts';
import type { DetectorSignal } from '../types.ts';
import { evictOver, touch } from '../../base/bounded-map.ts';
import { readBusinessKey, type BusinessKey } from './business-key.ts';
import { inEventTimeOrder, type Detector } from './detector.ts';
import { classify as defaultClassify, type Classifier } from './error-class.ts';
import { businessKey, checkTemplate, detectorName, maxKeys, positiveDuration, severity } from './schema-parts.ts';
import { fillTemplate, listOf } from './summary-template.ts';

/**
 * Partial failure: in a run of a workflow, a step that cannot be undone succeeded (the
 * customer was charged) and another step failed permanently (the entitlement was not
 * activated). Someone has to compensate or fix forward. A transient failure (429, timeout) is
 * not one: it heals on retry, and if it does not, the missed deadline says so. A later success
 * of the failed step, or a compensation step, resolves it.
 */

const PLACEHOLDERS = ['workflow', 'correlationId', 'businessKey', 'done', 'failed', 'compensation'] as const;
const DEFAULT_SUMMARY =
  '{workflow} {correlationId} is half done: {done} cannot be undone, but {failed} failed permanently — compensation ({compensation}) or a forward fix is needed';

export const partialFailureSchema = z
  .object({
    name: detectorName,
    workflow: z.string().min(1),
    /** The workflow's owner when not given. */
    owner: z.string().min(1).optional(),
    severity: severity.default('critical'),
    /** Steps of the workflow whose success cannot be undone by a retry (a charge, a sent email). */
    irreversible: z.array(z.string().min(1)).min(1),
    /** How to count a failure whose error no rule classifies (or that carries none). */
    unknownErrors: z.enum(['permanent', 'transient'], { error: 'must be permanent or transient' }).default('permanent'),
    businessKey: businessKey.optional(),
    /** A run with no event for this long is forgotten (a firing one resolved as such). */
    forgetAfter: positiveDuration.default(7 * 86_400_000),
    summary: z.string().min(1).optional(),
    maxKeys: maxKeys.default(100_000),
  })
  .strict()
  .superRefine((c, ctx) => checkTemplate(c.summary, [...PLACEHOLDERS, ...(c.businessKey ?? []).map((f) => f.name)], ctx));

export type PartialFailureConfig = z.output<typeof partialFailureSchema>;

interface StepEvent {
  id: string;
  time: number;
  error?: EventError;
}

interface RunFacts {
  correlationId: string;
  businessKey: BusinessKey | undefined;
  /** Earliest success per step. */
  done: Map<string, StepEvent>;
  /** Earliest permanent failure per step. */
  failed: Map<string, StepEvent>;
  compensated: StepEvent | undefined;
  lastEventAt: number;
  /** When the current problem began; undefined while there is none. */
  firingSince: number | undefined;
}

export interface PartialFailureState {
  runs: Map<string, RunFacts>;
  nextDueAt: number;
  counters: { transientFailures: number; tooOld: number; evicted: number; expired: number };
}

type Role = { step: string; kind: 'done' | 'failed' | 'compensation' };

const earlier = (a: StepEvent, b: StepEvent) => a.time < b.time || (a.time === b.time && a.id < b.id);
const describeError = (error: EventError | undefined) => [error?.code, error?.class].filter(Boolean).join(' ');

export function createPartialFailureDetector(config: PartialFailureConfig, definition: WorkflowDefinition, classify: Classifier = defaultClassify): Detector<PartialFailureState> {
  if (definition.name !== config.workflow) throw new Error(`partial failure "${config.name}" is for workflow "${config.workflow}", got "${definition.name}"`);
  const stepNames = definition.steps.map((s) => s.name);
  for (const step of config.irreversible) {
    if (!stepNames.includes(step)) throw new Error(`partial failure "${config.name}": no step "${step}" in workflow "${definition.name}"`);
  }
  const roles = new Map<string, Role[]>();
  const addRole = (source: string, type: string, role: Role) => {
    const key = `${source}\u0000${type}`;
    roles.set(key, [...(roles.get(key) ?? []), role]);
  };
  for (const step of definition.steps) {
    addRole(step.source, step.type, { step: step.name, kind: 'done' });
    for (const type of step.failOn) addRole(step.source, type, { step: step.name, kind: 'failed' });
  }
  for (const step of definition.compensation) addRole(step.source, step.type, { step: step.name, kind: 'compensation' });
  const owner = config.owner ?? definition.owner;
  const template = config.summary ?? DEFAULT_SUMMARY;
  const compensation = definition.compensation.length > 0 ? listOf(definition.compensation.map((c) => c.name)) : 'no compensation step is defined';

  /** Irreversible steps done and steps failed for good, in the workflow's order. */
  const problem = (run: RunFacts) => {
    const done = config.irreversible.filter((s) => run.done.has(s));
    const failed = stepNames.filter((s) => run.failed.has(s) && !run.done.has(s));
    const active = run.compensated === undefined && done.length > 0 && failed.length > 0;
    return { active, done, failed };
  };

  const signal = (run: RunFacts, at: number, resolved?: { reason: string; prefix: string }): DetectorSignal => {
    // A resolve describes the problem as it was: the failed steps, though one has succeeded since.
    const done = config.irreversible.filter((s) => run.done.has(s));
    const failed = resolved ? stepNames.filter((s) => run.failed.has(s)) : problem(run).failed;
    const values: Record<string, string> = {
      ...run.businessKey?.values,
      workflow: definition.name,
      correlationId: run.correlationId,
      businessKey: run.businessKey?.text ?? '',
      done: listOf(done.map((s) => `${s} (${run.done.get(s)!.id})`)),
      failed: listOf(
        failed.map((s) => {
          const failure = run.failed.get(s)!;
          const error = describeError(failure.error);
          return `${s} (${failure.id}${error ? `: ${error}` : ''})`;
        }),
      ),
      compensation,
    };
    return {
      kind: resolved ? 'resolved' : 'firing',
      detector: config.name,
      key: runIdOf(definition.name, run.correlationId),
      workflow: definition.name,
      owner,
      severity: config.severity,
      summary: (resolved?.prefix ?? '') + fillTemplate(template, values),
      correlationId: run.correlationId,
      ...(run.businessKey ? { businessKey: run.businessKey.text } : {}),
      at,
      details: {
        irreversibleDone: done.join(', '),
        failedSteps: failed.join(', '),
        ...(resolved ? { reason: resolved.reason } : {}),
      },
    };
  };

  /** Signals the change, if any, that this event made to whether the run is half done. */
  const judge = (run: RunFacts, event: WorkflowEvent): DetectorSignal[] => {
    const { active, done, failed } = problem(run);
    if (active && run.firingSince === undefined) {
      const doneAt = Math.min(...done.map((s) => run.done.get(s)!.time));
      const failedAt = Math.min(...failed.map((s) => run.failed.get(s)!.time));
      run.firingSince = Math.max(doneAt, failedAt);
      return [signal(run, run.firingSince)];
    }
    if (!active && run.firingSince !== undefined) {
      const at = Math.max(event.time, run.firingSince);
      run.firingSince = undefined;
      const how = run.compensated ? `compensated (${event.type} ${event.id})` : `fixed forward (${event.type} ${event.id})`;
      return [signal(run, at, { reason: run.compensated ? 'compensated' : 'fixed', prefix: `Resolved, ${how}: ` })];
    }
    return [];
  };

  const forget = (run: RunFacts, at: number, reason: 'forgotten' | 'evicted'): DetectorSignal[] => {
    if (run.firingSince === undefined) return [];
    const prefix =
      reason === 'forgotten'
        ? `No longer watched after ${formatDuration(config.forgetAfter)} without events: `
        : `No longer watched (more than ${config.maxKeys} runs held): `;
    return [signal(run, Math.max(at, run.firingSince), { reason, prefix })];
  };

  return {
    name: config.name,
    initial: () => ({ runs: new Map(), nextDueAt: Number.POSITIVE_INFINITY, counters: { transientFailures: 0, tooOld: 0, evicted: 0, expired: 0 } }),

    apply(state, event, watermark) {
      const matched = roles.get(`${event.source}\u0000${event.type}`);
      if (!matched) return { state, signals: [] };
      if (event.time < watermark - config.forgetAfter) {
        state.counters.tooOld++;
        return { state, signals: [] };
      }
      const run: RunFacts = state.runs.get(event.correlationId) ?? {
        correlationId: event.correlationId,
        businessKey: undefined,
        done: new Map(),
        failed: new Map(),
        compensated: undefined,
        lastEventAt: event.time,
        firingSince: undefined,
      };
      const fact: StepEvent = { id: event.id, time: event.time, ...(event.error ? { error: event.error } : {}) };
      for (const role of matched) {
        if (role.kind === 'failed') {
          const kind = classify(event.error);
          if (kind === 'transient' || (kind === 'unknown' && config.unknownErrors === 'transient')) {
            state.counters.transientFailures++;
            continue;
          }
        }
        const facts = role.kind === 'done' ? run.done : role.kind === 'failed' ? run.failed : undefined;
        if (facts) {
          const current = facts.get(role.step);
          if (!current || earlier(fact, current)) facts.set(role.step, fact);
        } else if (!run.compensated || earlier(fact, run.compensated)) {
          run.compensated = fact;
        }
      }
      if (config.businessKey && !run.businessKey) run.businessKey = readBusinessKey(config.businessKey, event.data);
      run.lastEventAt = Math.max(run.lastEventAt, event.time);
      touch(state.runs, event.correlationId, run);
      state.nextDueAt = Math.min(state.nextDueAt, run.lastEventAt + config.forgetAfter);
      const signals = judge(run, event);
      for (const [, evicted] of evictOver(state.runs, config.maxKeys)) {
        state.counters.evicted++;
        signals.push(...forget(evicted, watermark, 'evicted'));
      }
      return { state, signals };
    },

    tick(state, watermark) {
      if (watermark < state.nextDueAt) return { state, signals: [] };
      const signals: DetectorSignal[] = [];
      let next = Number.POSITIVE_INFINITY;
      for (const [key, run] of state.runs) {
        const forgetAt = run.lastEventAt + config.forgetAfter;
        if (watermark >= forgetAt) {
          state.runs.delete(key);
          state.counters.expired++;
          signals.push(...forget(run, forgetAt, 'forgotten'));
        } else {
          next = Math.min(next, forgetAt);
        }
      }
      state.nextDueAt = next;
      return { state, signals: inEventTimeOrder(signals) };
    },

    size: (state) => state.runs.size,
    counters: (state) => state.counters,
  };
}
