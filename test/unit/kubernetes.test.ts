import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { parseConfigText } from '../../src/config/load.ts';
import { readManifests, render, strategicMerge, type Manifest } from '../support/kustomize.ts';

const ROOT = 'deploy/kubernetes';

/**
 * Validates against the Kubernetes OpenAPI schemas as the npm package kubernetes-models
 * carries them (compiled ajv validators), and the ServiceMonitor against the prometheus-operator
 * CRD schema (@kubernetes-models/prometheus-operator).
 */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 ConfigMap': ConfigMap,
  'v1 Service': Service,
  'v1 Secret': Secret,
  'v1 ServiceAccount': ServiceAccount,
  'v1 PersistentVolumeClaim': PersistentVolumeClaim,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

function validate(m: Manifest): void {
  const Model = MODELS[`${m['apiVersion']} ${m['kind']}`];
  if (!Model) throw new Error(`no schema for ${m['apiVersion']} ${m['kind']}`);
  new Model(m).validate();
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? yamlFiles(path) : name.endsWith('.yaml') ? [path] : [];
  });
}

const kustomizations = yamlFiles(ROOT).filter((f) => f.endsWith('kustomization.yaml')).map((f) => relative(ROOT, f).replace(/\/?kustomization\.yaml$/, ''));
const manifests = yamlFiles(ROOT).filter((f) => !f.endsWith('kustomization.yaml'));
/** A patch is a fragment: valid only once applied, so it is checked in the rendered output. */
const patchFiles = new Set(kustomizations.flatMap((k) => readManifests(join(ROOT, k, 'kustomization.yaml'))[0]!['patches']?.map((p: { path: string }) => join(ROOT, k, p.path)) ?? []));

const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d['kind'] === kind);
const container = (docs: Manifest[], name = 'seamwatch') => byKind(docs, 'Deployment')[0]!['spec']['template']['spec']['containers'].find((c: { name: string }) => c.name === name);
const secretKeys = new Set(Object.keys(readManifests(join(ROOT, 'secret.example.yaml'))[0]!['stringData']));

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('has the kustomizations the README names', () => {
    expect(kustomizations.sort()).toEqual(['base', 'overlays/scaled-out', 'overlays/single-instance', 'sidecar']);
  });

  it.each(manifests.filter((f) => !patchFiles.has(f)).map((f) => [relative(ROOT, f), f]))('%s is valid against the Kubernetes schemas', (_name, file) => {
    const docs = readManifests(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) validate(doc);
  });

  it.each(kustomizations.map((k) => [k]))('%s renders to valid objects', (k) => {
    const docs = render(join(ROOT, k));
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) validate(doc);
  });

  it.each(kustomizations.map((k) => [k]))('%s: probes on /healthz and /readyz, resources, non-root, read-only root, secrets only by reference to keys that exist', (k) => {
    const docs = render(join(ROOT, k));
    const pod = byKind(docs, 'Deployment')[0]!['spec']['template']['spec'];
    const c = container(docs);
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toEqual(expect.any(String));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const refs = (c.env as { name: string; value?: string; valueFrom?: { secretKeyRef?: { key: string } } }[]).filter((e) => e.valueFrom?.secretKeyRef);
    // Anything secret-looking comes from a Secret, never a literal value.
    expect(c.env.filter((e: { name: string; value?: string }) => /TOKEN|KEY|PASSWORD/.test(e.name) && e.value !== undefined)).toEqual([]);
    if (k !== 'sidecar') for (const ref of refs) expect(secretKeys).toContain(ref.valueFrom!.secretKeyRef!.key);
  });

  it.each(kustomizations.map((k) => [k]))('%s: the ConfigMap is a seamwatch config that validates, listening where the probes and Service look', (k) => {
    const docs = render(join(ROOT, k));
    const c = container(docs);
    const [configMap] = byKind(docs, 'ConfigMap');
    const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? 'from-a-secret-0123456789abcdef01']));
    const config = parseConfigText(configMap!['data']['seamwatch.yaml'], `${k}/seamwatch.yaml`, env);
    expect(config.http.host).toBe('0.0.0.0');
    expect(c.ports).toContainEqual(expect.objectContaining({ name: 'http', containerPort: config.http.port }));
    expect(c.args).toEqual(['run', '--config', '/etc/seamwatch/seamwatch.yaml']);
  });

  it('single-instance: one pod, replaced not rolled, the embedded store on a volume', () => {
    const docs = render(join(ROOT, 'overlays/single-instance'));
    const deployment = byKind(docs, 'Deployment')[0]!;
    expect(deployment['spec']['replicas']).toBe(1);
    expect(deployment['spec']['strategy']).toEqual({ type: 'Recreate' });
    const c = container(docs);
    const config = parseConfigText(byKind(docs, 'ConfigMap')[0]!['data']['seamwatch.yaml'], 'single.yaml', { SEAMWATCH_PD_KEY_BILLING: 'k'.repeat(32), SEAMWATCH_PD_KEY_SUPPORT: 'k'.repeat(32) });
    expect(config.store.kind).toBe('embedded');
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'data');
    expect(config.store.kind === 'embedded' && config.store.embedded.path.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(deployment['spec']['template']['spec']['volumes']).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'seamwatch-data' } });
    expect(byKind(docs, 'PersistentVolumeClaim').map((p) => p['metadata']['name'])).toEqual(['seamwatch-data']);
    // The base's config and tmp mounts survived the patch.
    expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/etc/seamwatch', '/tmp', '/var/lib/seamwatch']);
  });

  it('scaled-out: three pods in one consumer group on the ClickHouse server, two kept through a drain', () => {
    const docs = render(join(ROOT, 'overlays/scaled-out'));
    const deployment = byKind(docs, 'Deployment')[0]!;
    expect(deployment['spec']['replicas']).toBe(3);
    const c = container(docs);
    const env = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? 'k'.repeat(32)]));
    const config = parseConfigText(byKind(docs, 'ConfigMap')[0]!['data']['seamwatch.yaml'], 'scaled.yaml', env);
    expect(config.store).toMatchObject({ kind: 'clickhouse', clickhouse: { url: 'http://clickhouse.clickhouse.svc:8123' } });
    expect(config.kafka?.groupId).toBe('seamwatch');
    // The base's variables are still there beside the overlay's.
    expect(c.env.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['SEAMWATCH_API_TOKEN', 'SEAMWATCH_KAFKA_BROKERS', 'SEAMWATCH_CLICKHOUSE_URL', 'SEAMWATCH_CLICKHOUSE_PASSWORD']));
    expect(byKind(docs, 'PodDisruptionBudget')[0]!['spec']).toEqual({ minAvailable: 2, selector: { matchLabels: { 'app.kubernetes.io/name': 'seamwatch' } } });
    expect(byKind(docs, 'PersistentVolumeClaim')).toEqual([]);
  });

  it('the checks can fail: a wrong type, a patch that matches nothing, a field the renderer does not apply', () => {
    const deployment = readManifests(join(ROOT, 'base/deployment.yaml'))[0]!;
    expect(() => validate({ ...deployment, spec: { ...deployment['spec'], replicas: 'three' } })).toThrow(/replicas must be integer/);
    expect(() => validate({ apiVersion: 'batch/v1', kind: 'CronJob' })).toThrow('no schema for batch/v1 CronJob');
    expect(strategicMerge({ a: [{ name: 'x', v: 1 }], containers: [{ name: 'x', v: 1 }], keep: 1, drop: 2 }, { a: [{ name: 'y' }], containers: [{ name: 'x', w: 2 }, { name: 'z' }], drop: null })).toEqual({
      a: [{ name: 'y' }],
      containers: [{ name: 'x', v: 1, w: 2 }, { name: 'z' }],
      keep: 1,
    });
  });
});
