import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function seamwatch(...args: string[]) {
  return seamwatchWith({}, ...args);
}

function seamwatchWith(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEAMWATCH_LOG_LEVEL: 'silent', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'seamwatch-cli-')), 'config.yaml');
  writeFileSync(path, text);
  return path;
}

describe('seamwatch validate', () => {
  it('accepts the shipped example and says what it holds', () => {
    const { code, stdout } = seamwatch('validate', 'config/seamwatch.yaml');
    expect(code).toBe(0);
    expect(stdout).toBe('config/seamwatch.yaml: ok — 3 sources, 2 workflows, 5 steps\n');
  });

  it('refuses a bad file with every problem and its key path, exit code 2', () => {
    const path = file(`
sources: [{ name: crm }]
workflows:
  - { name: w, owner: o, trigger: { source: crm, type: a }, steps: [{ name: s, source: bilin, type: b }], deadline: 5 minutes }
kafka: { brokers: [localhost] }
store: { clickhouse: { url: "http://127.0.0.1:18123", database: seamwatch } }
`);
    const { code, stdout, stderr } = seamwatch('validate', path);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${path}: invalid configuration\n` +
        '  - workflows[0].deadline: not a duration: "5 minutes" (use e.g. 500ms, 30s, 5m, 4h, 7d)\n' +
        '  - kafka.brokers[0]: must be host:port\n' +
        '  - workflows[0].steps[0].source: unknown source "bilin" (known: crm)\n',
    );
  });

  it('accepts the HTTP-only example once its signing secret is in the environment, and says which is missing otherwise', () => {
    const ok = seamwatchWith({ SEAMWATCH_BILLING_WEBHOOK_SECRET: 'x' }, 'validate', 'config/seamwatch-http.yaml');
    expect([ok.code, ok.stdout]).toEqual([0, 'config/seamwatch-http.yaml: ok — 3 sources, 2 workflows, 5 steps\n']);
    const missing = seamwatchWith({ SEAMWATCH_BILLING_WEBHOOK_SECRET: '' }, 'validate', 'config/seamwatch-http.yaml');
    expect([missing.code, missing.stderr]).toEqual([
      2,
      'config/seamwatch-http.yaml: invalid configuration\n  - sources[2].http.signature.secretEnv: environment variable SEAMWATCH_BILLING_WEBHOOK_SECRET is not set\n',
    ]);
  });

  it('says when the file is missing', () => {
    const { code, stderr } = seamwatch('validate', 'no/such/file.yaml');
    expect(code).toBe(2);
    expect(stderr).toBe('no/such/file.yaml: invalid configuration\n  - no such file\n');
  });

  it('refuses an unknown command with exit code 2', () => {
    const { code, stderr } = seamwatch('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('seamwatch slo status and demo: bad arguments', () => {
  it('refuses an --at that is not a time before touching the store', () => {
    const { code, stderr } = seamwatch('slo', 'status', '--at', 'yesterday');
    expect(code).toBe(2);
    expect(stderr).toBe('--at: not a time: "yesterday" (use e.g. 2026-11-25T10:00:00Z)\n');
  });

  it('demo --http on a config whose sources read from Kafka says which config to use', () => {
    const { code, stderr } = seamwatch('demo', '--http', '--config', 'config/seamwatch.yaml', '--duration', '1s');
    expect(code).toBe(1);
    expect(stderr).toBe('seamwatch demo: seamwatch demo --http needs an HTTP source named "crm" (transport: http) in the config: see config/seamwatch-http.yaml\n');
  });

  it('refuses demo options out of range, all at once', () => {
    const { code, stderr } = seamwatch('demo', '--rate', '0', '--duration', 'soon', '--late', '2');
    expect(code).toBe(2);
    expect(stderr).toBe(
      '--rate: "0" must be a number above 0 and at most 10000\n--duration: "soon" is not a duration (e.g. 10m)\n--late: "2" is not a share between 0 and 0.99\n',
    );
  });
});
