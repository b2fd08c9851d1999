import type { WorkflowDefinition } from '../domain/workflow.ts';

/** The part an event type plays in a workflow. */
export type Role =
  | { kind: 'trigger'; workflow: WorkflowDefinition }
  | { kind: 'step'; workflow: WorkflowDefinition; step: string }
  | { kind: 'step-failure'; workflow: WorkflowDefinition; step: string }
  | { kind: 'compensation'; workflow: WorkflowDefinition; step: string };

const NO_ROLES: readonly Role[] = [];

/** Looks up, for an event's (source, type), every part it plays in every workflow. */
export class WorkflowIndex {
  /** By source, then type: two look-ups of strings the event already holds, no key to build per event. */
  private readonly roles = new Map<string, Map<string, Role[]>>();
  readonly workflows: ReadonlyMap<string, WorkflowDefinition>;

  constructor(definitions: readonly WorkflowDefinition[]) {
    this.workflows = new Map(definitions.map((w) => [w.name, w]));
    for (const workflow of definitions) {
      this.add(workflow.trigger.source, workflow.trigger.type, { kind: 'trigger', workflow });
      for (const step of workflow.steps) {
        this.add(step.source, step.type, { kind: 'step', workflow, step: step.name });
        for (const type of step.failOn) this.add(step.source, type, { kind: 'step-failure', workflow, step: step.name });
      }
      for (const step of workflow.compensation) this.add(step.source, step.type, { kind: 'compensation', workflow, step: step.name });
    }
    // Triggers first: a run must exist before an event can be a step of it.
    for (const byType of this.roles.values()) for (const list of byType.values()) list.sort((a, b) => Number(b.kind === 'trigger') - Number(a.kind === 'trigger'));
  }

  private add(source: string, type: string, role: Role): void {
    let byType = this.roles.get(source);
    if (!byType) this.roles.set(source, (byType = new Map()));
    const list = byType.get(type);
    if (list) list.push(role);
    else byType.set(type, [role]);
  }

  /** Every part this event type plays, triggers first. */
  rolesOf(source: string, type: string): readonly Role[] {
    return this.roles.get(source)?.get(type) ?? NO_ROLES;
  }
}
