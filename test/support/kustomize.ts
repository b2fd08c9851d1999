import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * The part of kustomize that deploy/kubernetes uses, applied in the test (no kustomize binary
 * can be had from npm here, and no npm package implements kustomize): `resources` (files and
 * directories holding a kustomization.yaml) and `patches` with a `path` to a strategic merge
 * patch, matched by apiVersion, kind and name. Any other kustomization field is refused, so a
 * manifest cannot silently rely on something this renderer does not do.
 */

export type Manifest = Record<string, any>;

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

/** Strategic merge keys of the lists the manifests patch (as the Kubernetes API declares them). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
};

export function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    return value === null ? [] : [value];
  });
}

export function render(dir: string): Manifest[] {
  const file = join(dir, 'kustomization.yaml');
  const [k] = readManifests(file);
  if (!k || k['kind'] !== 'Kustomization') throw new Error(`${file}: not a Kustomization`);
  const unknown = Object.keys(k).filter((key) => !KNOWN_FIELDS.has(key));
  if (unknown.length > 0) throw new Error(`${file}: fields this renderer does not apply: ${unknown.join(', ')}`);
  const out: Manifest[] = [];
  for (const resource of (k['resources'] ?? []) as string[]) {
    const path = join(dir, resource);
    if (!existsSync(path)) throw new Error(`${file}: resource ${resource} does not exist`);
    out.push(...(statSync(path).isDirectory() ? render(path) : readManifests(path)));
  }
  for (const patch of (k['patches'] ?? []) as { path?: string }[]) {
    if (!patch.path || Object.keys(patch).length !== 1) throw new Error(`${file}: only patches with a path are applied`);
    for (const p of readManifests(join(dir, patch.path))) {
      const i = out.findIndex((m) => m['apiVersion'] === p['apiVersion'] && m['kind'] === p['kind'] && m['metadata']?.['name'] === p['metadata']?.['name']);
      if (i < 0) throw new Error(`${file}: patch ${patch.path} matches no resource (${p['kind']} ${p['metadata']?.['name']})`);
      out[i] = strategicMerge(out[i]!, p) as Manifest;
    }
  }
  const ids = out.map((m) => `${m['kind']}/${m['metadata']?.['name']}`);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length > 0) throw new Error(`${file}: resources listed twice: ${twice.join(', ')}`);
  return out;
}

/**
 * A strategic merge patch: maps merge key by key, a null deletes, lists with a merge key merge
 * item by item (new items appended), every other list is replaced.
 */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(base)) return patch;
    const merged = [...base];
    for (const item of patch) {
      const at = merged.findIndex((b) => b?.[key] === item?.[key]);
      if (at >= 0) merged[at] = strategicMerge(merged[at], item);
      else merged.push(item);
    }
    return merged;
  }
  if (typeof patch !== 'object' || typeof base !== 'object' || base === null || Array.isArray(base)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    const merged = strategicMerge(out[k], v, k);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}
