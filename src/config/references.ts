import { asArray, asObject, asString, type ReferenceProblem } from '../base/raw-config.ts';
import { parseFieldPath } from '../domain/field-path.ts';
import { sloReferenceProblems } from '../slo/config.ts';
import { detectorReferenceProblems } from '../alerts/detectors/config.ts';
import { routingReferenceProblems } from '../alerts/routing/references.ts';

export type { ReferenceProblem };


/**
 * Checks what the schema cannot: names that must be unique, sources that steps refer to, field
 * paths that must parse, the workflows and steps SLOs refer to (OpenSLO documents get the same
 * checks where load.ts reads them). Works on the raw input, tolerating any shape, so its
 * findings are reported together with the schema's.
 */
export function referenceProblems(raw: unknown): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const config = asObject(raw);
  const sourceNames = new Set<string>();
  const topics = new Map<string, string>();
  asArray(config['sources']).forEach((entry, i) => {
    const source = asObject(entry);
    const name = asString(source['name']);
    if (name !== undefined) {
      if (sourceNames.has(name)) problems.push({ path: ['sources', i, 'name'], message: `duplicate source "${name}"` });
      sourceNames.add(name);
      // A topic belongs to one source: events on it that name another source are dead-lettered.
      const topic = asString(source['topic']) ?? `${name}.events`;
      const owner = topics.get(topic);
      if (owner !== undefined && owner !== name) problems.push({ path: ['sources', i, 'topic'], message: `topic "${topic}" is already source "${owner}"'s` });
      else topics.set(topic, name);
    }
    const mapping = asObject(source['mapping']);
    for (const [field, spec] of Object.entries(mapping)) {
      // `types` renames event types; its keys are type names, not field specs.
      if (field === 'types') continue;
      const specs = field === 'error' ? Object.entries(asObject(spec)).map(([k, v]) => [[field, k], v] as const) : [[[field], spec] as const];
      for (const [path, value] of specs) {
        const text = asString(asObject(value)['path']);
        // An empty path is the schema's to report; reporting it twice is noise.
        if (text === undefined || text === '') continue;
        try {
          parseFieldPath(text);
        } catch (error) {
          problems.push({ path: ['sources', i, 'mapping', ...path, 'path'], message: (error as Error).message });
        }
      }
    }
  });
  const known = [...sourceNames].join(', ');
  const checkSource = (value: unknown, path: (string | number)[]) => {
    const name = asString(value);
    if (name !== undefined && sourceNames.size > 0 && !sourceNames.has(name)) {
      problems.push({ path, message: `unknown source "${name}" (known: ${known})` });
    }
  };

  const workflowNames = new Set<string>();
  asArray(config['workflows']).forEach((entry, wi) => {
    const workflow = asObject(entry);
    const name = asString(workflow['name']);
    if (name !== undefined) {
      if (workflowNames.has(name)) problems.push({ path: ['workflows', wi, 'name'], message: `duplicate workflow "${name}"` });
      workflowNames.add(name);
    }
    const trigger = asObject(workflow['trigger']);
    checkSource(trigger['source'], ['workflows', wi, 'trigger', 'source']);
    const matchers = new Map<string, string>([[`${String(trigger['source'])}\u0000${String(trigger['type'])}`, 'the trigger']]);
    const stepNames = new Set<string>();
    for (const kind of ['steps', 'compensation'] as const) {
      asArray(workflow[kind]).forEach((stepEntry, si) => {
        const step = asObject(stepEntry);
        const at = ['workflows', wi, kind, si];
        checkSource(step['source'], [...at, 'source']);
        const stepName = asString(step['name']);
        if (stepName !== undefined) {
          if (stepNames.has(stepName)) problems.push({ path: [...at, 'name'], message: `duplicate step "${stepName}"` });
          stepNames.add(stepName);
        }
        if (stepName === 'trigger') problems.push({ path: [...at, 'name'], message: '"trigger" is reserved for the trigger\'s span' });
        const types: [string | undefined, (string | number)[]][] = [
          [asString(step['type']), ['type']],
          ...asArray(step['failOn']).map((t, fi): [string | undefined, (string | number)[]] => [asString(t), ['failOn', fi]]),
        ];
        for (const [type, where] of types) {
          if (type === undefined || asString(step['source']) === undefined) continue;
          const key = `${String(step['source'])}\u0000${type}`;
          const owner = matchers.get(key);
          if (owner) problems.push({ path: [...at, ...where], message: `"${String(step['source'])}/${type}" already matches ${owner}` });
          else matchers.set(key, `step "${stepName ?? si}"`);
        }
      });
    }
    const steps = asArray(workflow['steps']);
    if (steps.length > 0 && steps.every((s) => asObject(s)['required'] === false)) {
      problems.push({ path: ['workflows', wi, 'steps'], message: 'at least one step must be required' });
    }
  });

  for (const p of sloReferenceProblems(asArray(config['slos']), config['workflows'])) {
    problems.push({ path: ['slos', p.index, ...p.path], message: p.message });
  }
  problems.push(...detectorReferenceProblems(raw));
  const receiverNames: string[] = [];
  asArray(config['receivers']).forEach((entry, i) => {
    const name = asString(asObject(entry)['name']);
    if (name === undefined) return;
    if (receiverNames.includes(name)) problems.push({ path: ['receivers', i, 'name'], message: `duplicate receiver "${name}"` });
    else receiverNames.push(name);
  });
  problems.push(...routingReferenceProblems(raw, receiverNames));
  const files = new Set<string>();
  asArray(config['openslo']).forEach((entry, i) => {
    const file = asString(entry);
    if (file !== undefined && files.has(file)) problems.push({ path: ['openslo', i], message: `duplicate file "${file}"` });
    if (file !== undefined) files.add(file);
  });
  return problems;
}
