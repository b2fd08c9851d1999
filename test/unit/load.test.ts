import { detectorsSchema } from '../../src/alerts/detectors/config.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatPath, loadConfig, parseConfigText, validateConfig } from '../../src/config/load.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/config/${name}`, import.meta.url));
const shippedExample = fileURLToPath(new URL('../../config/seamwatch.yaml', import.meta.url));

/** The problems a file is refused with; fails the test when it is accepted. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, 'test.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('the configuration was accepted');
}

const MINIMAL = readFileSync(fixture('good-minimal.yaml'), 'utf8');

describe('formatPath', () => {
  it.each([
    [[], '(root)'],
    [['kafka'], 'kafka'],
    [['kafka', 'brokers', 0], 'kafka.brokers[0]'],
    [['workflows', 2, 'steps', 0, 'type'], 'workflows[2].steps[0].type'],
    [[0, 'name'], '[0].name'],
  ] as const)('writes %j as %j, the way the YAML reads', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});

describe('good configuration files', () => {
  it('the shipped example config/seamwatch.yaml validates', async () => {
    const config = await loadConfig(shippedExample, {});
    expect(config.sources.map((s) => [s.name, s.topic, s.format, s.deadLetterTopic])).toEqual([
      ['crm', 'crm.events', 'cloudevents', 'crm.events.dlq'],
      ['ticketing', 'ticketing.events', 'cloudevents', 'ticketing.events.dlq'],
      ['billing', 'billing.webhooks', 'mapped', 'billing.webhooks.dlq'],
    ]);
    expect(config.workflows.map((w) => [w.name, w.deadline, w.steps.map((s) => s.name)])).toEqual([
      ['plan-upgrade', 300_000, ['invoice-updated', 'entitlement-activated', 'ticket-tagged']],
      ['support-ticket', 86_400_000, ['triaged', 'resolved']],
    ]);
    // npm start needs no ClickHouse server: the example keeps its data in the ignored .seamwatch/.
    expect(config.store).toEqual({ kind: 'embedded', embedded: { path: '.seamwatch/clickhouse', database: 'seamwatch' } });
  });

  it('a minimal file gets every default filled in', async () => {
    expect(await loadConfig(fixture('good-minimal.yaml'), {})).toEqual({
      sources: [{ name: 'crm', transport: 'kafka', format: 'cloudevents', topic: 'crm.events', deadLetterTopic: 'crm.events.dlq' }],
      workflows: [],
      slos: [],
      openslo: [],
      detectors: detectorsSchema.parse({}),
      alerting: { pendingFor: 0, keepFiringFor: 300_000, resolvedRetention: 1_209_600_000, runPrecedence: ['partialFailures', 'missedDeadlines'], traceUrlBase: 'http://127.0.0.1:9470/trace/' },
      receivers: [],
      inhibit_rules: [],
      time_intervals: [],
      kafka: { brokers: ['kafka-0:9092'], clientId: 'seamwatch', groupId: 'seamwatch', fromBeginning: true, sessionTimeout: 30_000, maxEventTimeSkew: 30_000, maxBytesPerPartition: 4_194_304 },
      httpIntake: { host: '127.0.0.1', port: 9471, maxBodyBytes: 1_048_576, ackTimeout: 10_000, retryAfter: 5_000, partition: 0 },
      store: {
        kind: 'clickhouse',
        clickhouse: { url: 'http://clickhouse:8123', database: 'seamwatch', username: 'default', password: '', requestTimeout: 30_000 },
      },
      pipeline: {
        flushRows: 20_000,
        flushInterval: 1_000,
        maxBufferedRows: 200_000,
        dedupeWindow: 600_000,
        dedupeMaxKeys: 500_000,
        holdUnmatchedFor: 3_600_000,
        maxHeldSteps: 50_000,
        allowedLateness: 30_000,
        maxTimeAhead: 300_000,
        maxFieldLength: 256,
        idleAdvanceAfter: 30_000,
        closedRunRetention: 900_000,
        runHorizon: 604_800_000,
        closedRunMemory: 200_000,
        recoveryMaxEvents: 500_000,
        recoveryDeadline: 300_000,
        sloEvaluateEvery: 10_000,
        finalFlushDeadline: 15_000,
      },
      http: { host: '127.0.0.1', port: 9470 },
      api: { tokenEnv: 'SEAMWATCH_API_TOKEN', tokens: [], protectReads: false },
      log: { level: 'info' },
      telemetry: { self: { serviceName: 'seamwatch' } },
    });
  });

  it('a full file keeps every value it sets, with durations in ms', async () => {
    const config = await loadConfig(fixture('good-full.yaml'), {});
    expect(config.sources[2]).toEqual({
      name: 'billing',
      transport: 'kafka',
      topic: 'billing.webhooks',
      deadLetterTopic: 'billing.dead',
      format: 'mapped',
      mapping: {
        id: { path: 'id' },
        type: { path: 'type' },
        time: { path: 'created', format: 'unix-s' },
        correlationid: { path: 'data.object.metadata["correlation.id"]' },
        subject: { path: 'data.object.customer' },
        data: { path: 'data.object' },
        error: {
          code: { path: 'data.object.last_error.code' },
          class: { value: 'billing' },
          message: { path: 'data.object.last_error.message' },
        },
        types: { 'invoice.payment_succeeded': 'invoice.updated', path: 'entitlement.activated' },
      },
    });
    expect(config.workflows[0]).toEqual({
      name: 'plan-upgrade',
      owner: 'billing-platform',
      description: 'A CRM plan upgrade reaches billing.',
      trigger: { source: 'crm', type: 'subscription.upgraded' },
      steps: [
        { name: 'invoice-updated', source: 'billing', type: 'invoice.updated', required: true, failOn: ['invoice.update_failed'] },
        { name: 'entitlement-activated', source: 'billing', type: 'entitlement.activated', required: true, failOn: [] },
        { name: 'ticket-tagged', source: 'ticketing', type: 'ticket.tagged', required: false, failOn: [] },
      ],
      compensation: [{ name: 'upgrade-reverted', source: 'crm', type: 'subscription.upgrade_reverted' }],
      deadline: 90_000,
    });
    expect(config.kafka).toEqual({
      brokers: ['kafka-0:9092', 'kafka-1:9092'],
      clientId: 'seamwatch-test',
      groupId: 'seamwatch-test',
      fromBeginning: false,
      sessionTimeout: 45_000,
      maxEventTimeSkew: 120_000,
      maxBytesPerPartition: 1_048_576,
    });
    expect(config.store).toEqual({ kind: 'clickhouse', clickhouse: {
      url: 'http://clickhouse:8123',
      database: 'seamwatch_test',
      username: 'seamwatch',
      password: 's3cret',
      requestTimeout: 60_000,
    } });
    expect(config.pipeline).toEqual({
      flushRows: 5_000,
      flushInterval: 250,
      maxBufferedRows: 50_000,
      dedupeWindow: 3_600_000,
      dedupeMaxKeys: 1_000,
      holdUnmatchedFor: 7_200_000,
      maxHeldSteps: 50_000,
      allowedLateness: 10_000,
      maxTimeAhead: 120_000,
      maxFieldLength: 200,
      idleAdvanceAfter: 15_000,
      closedRunRetention: 1_800_000,
      runHorizon: 259_200_000,
      closedRunMemory: 5_000,
      recoveryMaxEvents: 500_000,
      recoveryDeadline: 300_000,
      sloEvaluateEvery: 5_000,
      finalFlushDeadline: 15_000,
    });
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.log).toEqual({ level: 'debug' });
  });
});

describe('bad configuration files are refused with every problem and its key path', () => {
  it.each([
    {
      file: 'bad-shape.yaml',
      problems: [
        'sources[0].name: must be lower-case letters, digits, ".", "_" or "-"',
        'sources[0].format: Invalid option: expected one of "cloudevents"|"mapped"',
        'workflows[0].steps: Too small: expected array to have >=1 items',
        'workflows[0].deadline: not a duration: "soon" (use e.g. 500ms, 30s, 5m, 4h, 7d)',
        'kafka.brokers[0]: must be host:port',
        'kafka.fromBeginning: Invalid input: expected boolean, received string',
        'kafka.partitions: unknown key',
        'store.kind: Invalid option: expected one of "embedded"|"clickhouse"',
        'store.clickhouse.url: must be an http:// or https:// URL',
        'store.clickhouse.database: must be a plain identifier',
        'pipeline.flushRows: Too small: expected number to be >0',
        'pipeline.dedupeWindow: not a duration: "-1s" (use e.g. 500ms, 30s, 5m, 4h, 7d)',
        'http.port: Invalid input: expected number, received string',
        'log.level: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
      ],
    },
    {
      file: 'bad-references.yaml',
      problems: [
        'sources[2].name: duplicate source "crm"',
        'workflows[0].steps[0].source: unknown source "bilin" (known: crm, billing)',
        'workflows[0].steps[1].name: duplicate step "invoice-updated"',
        'workflows[0].steps[2].type: "crm/subscription.upgraded" already matches the trigger',
        'workflows[0].steps[3].failOn[0]: "billing/invoice.paid" already matches step "invoice-updated"',
        'workflows[0].steps[4].name: "trigger" is reserved for the trigger\'s span',
        'workflows[1].name: duplicate workflow "plan-upgrade"',
        'workflows[1].trigger.source: unknown source "crn" (known: crm, billing)',
        'workflows[1].steps: at least one step must be required',
      ],
    },
    {
      file: 'bad-mapping.yaml',
      problems: [
        'sources[0].mapping.type: must be { path: <field path> } or { value: <constant> }',
        'sources[0].mapping.time.format: Invalid option: expected one of "iso"|"unix-s"|"unix-ms"',
        'sources[1].mapping: required when format is "mapped"',
        'sources[2].mapping: only allowed when format is "mapped"',
        'sources[0].mapping.id.path: bad field path "a..b" at character 2',
        'sources[0].mapping.correlationid.path: bad field path "meta["bad\\q"]" at character 5',
        'sources[0].mapping.error.code.path: bad field path "last_error[" at character 11',
      ],
    },
    { file: 'bad-empty.yaml', problems: ['sources: required', 'store: required'] },
    { file: 'bad-not-a-mapping.yaml', problems: ['(root): must be a mapping'] },
    { file: 'bad-yaml-duplicate-key.yaml', problems: ['line 5, column 1: Map keys must be unique'] },
    {
      file: 'bad-yaml-unclosed.yaml',
      problems: ['line 5, column 1: Flow sequence in block collection must be sufficiently indented and end with a ]'],
    },
  ])('$file', async ({ file, problems }) => {
    const path = fixture(file);
    const error = await loadConfig(path, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(problems);
    expect((error as ConfigError).message).toBe(`${path}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  });

  it('a missing file is refused as "no such file", not with a stack trace', async () => {
    const path = fixture('no-such-file.yaml');
    await expect(loadConfig(path, {})).rejects.toThrow(new ConfigError(path, ['no such file']));
  });

  it('a directory is refused as not a file', async () => {
    const path = fixture('');
    const error = (await loadConfig(path, {}).catch((e: unknown) => e)) as ConfigError;
    expect(error.problems).toEqual(['is a directory, not a file']);
  });
});

/** A valid configuration as plain data, for cases that change one thing. */
function baseConfig(): Record<string, any> {
  return {
    sources: [{ name: 'crm' }],
    workflows: [{ name: 'w', owner: 'o', trigger: { source: 'crm', type: 't' }, steps: [{ name: 's', source: 'crm', type: 'u' }], deadline: '5m' }],
    kafka: { brokers: ['kafka-0:9092'] },
    store: { clickhouse: { url: 'http://clickhouse:8123', database: 'seamwatch' } },
  };
}

function problemsOfObject(change: (c: Record<string, any>) => void, env: NodeJS.ProcessEnv = {}): string[] {
  const raw = baseConfig();
  change(raw);
  const result = validateConfig(raw, env);
  if (result.ok) throw new Error('the configuration was accepted');
  return result.problems;
}

describe('validateConfig', () => {
  it('accepts the base configuration used by the cases below', () => {
    expect(validateConfig(baseConfig()).ok).toBe(true);
  });

  it.each<[string, (c: Record<string, any>) => void, string[]]>([
    ['a string where a number belongs is a wrong type, not a missing key', (c) => (c.http = { port: '80' }), ['http.port: Invalid input: expected number, received string']],
    ['null where a list belongs', (c) => (c.workflows = null), ['workflows: Invalid input: expected array, received null']],
    ['a boolean deadline', (c) => (c.workflows[0].deadline = true), ['workflows[0].deadline: not a duration (use e.g. 500ms, 30s, 5m, 4h, 7d)']],
    ['a negative number deadline', (c) => (c.workflows[0].deadline = -5), ['workflows[0].deadline: not a duration: "-5" (use e.g. 500ms, 30s, 5m, 4h, 7d)']],
    ['a missing deadline', (c) => delete c.workflows[0].deadline, ['workflows[0].deadline: required']],
    ['a missing owner', (c) => delete c.workflows[0].owner, ['workflows[0].owner: required']],
    [
      'a mapped source missing its correlation ID mapping',
      (c) => c.sources.push({ name: 'b', format: 'mapped', mapping: { id: { path: 'id' }, type: { path: 'type' }, time: { path: 't' } } }),
      ['sources[1].mapping.correlationid: required'],
    ],
    [
      'a missing time mapping is reported once, though two schema rules catch it',
      (c) => c.sources.push({ name: 'b', format: 'mapped', mapping: { id: { path: 'id' }, type: { path: 'type' }, correlationid: { path: 'c' } } }),
      ['sources[1].mapping.time: required'],
    ],
    [
      'a field given both as a path and as a constant',
      (c) => c.sources.push({ name: 'b', format: 'mapped', mapping: { id: { path: 'id', value: 'x' }, type: { value: 't' }, correlationid: { path: 'c' }, time: { path: 't' } } }),
      ['sources[1].mapping.id: must be { path: <field path> } or { value: <constant> }'],
    ],
    ['an empty field path is reported once', (c) => c.sources.push({ name: 'b', format: 'mapped', mapping: { id: { path: '' }, type: { value: 't' }, correlationid: { path: 'c' }, time: { path: 't' } } }), ['sources[1].mapping.id.path: Too small: expected string to have >=1 characters']],
    ['an unknown top-level key', (c) => (c.alerts = []), ['alerts: unknown key']],
    ['two unknown keys in one object give one line each', (c) => (c.kafka.tls = true) && (c.kafka.sasl = {}), ['kafka.tls: unknown key', 'kafka.sasl: unknown key']],
    ['a step naming an unknown source', (c) => (c.workflows[0].steps[0].source = 'bilin'), ['workflows[0].steps[0].source: unknown source "bilin" (known: crm)']],
    ['a compensation step naming an unknown source', (c) => (c.workflows[0].compensation = [{ name: 'undo', source: 'erp', type: 'x' }]), ['workflows[0].compensation[0].source: unknown source "erp" (known: crm)']],
    ['a compensation step sharing a step\'s name', (c) => (c.workflows[0].compensation = [{ name: 's', source: 'crm', type: 'x' }]), ['workflows[0].compensation[0].name: duplicate step "s"']],
    ['a failOn type equal to its own step type', (c) => (c.workflows[0].steps[0].failOn = ['u']), ['workflows[0].steps[0].failOn[0]: "crm/u" already matches step "s"']],
    ['a ClickHouse URL that is not HTTP', (c) => (c.store.clickhouse.url = 'tcp://clickhouse:9000'), ['store.clickhouse.url: must be an http:// or https:// URL']],
  ])('%s', (_label, change, problems) => {
    expect(problemsOfObject(change)).toEqual(problems);
  });

  it.each([['a string', 'sources: []'], ['a list', [{ name: 'crm' }]], ['a number', 7]])('refuses %s at the root', (_label, raw) => {
    expect(validateConfig(raw)).toEqual({ ok: false, problems: ['(root): must be a mapping'] });
  });

  it('reports shape problems and reference problems together', () => {
    expect(
      problemsOfObject((c) => {
        c.kafka.brokers = ['kafka-0'];
        c.workflows[0].trigger.source = 'crn';
      }),
    ).toEqual(['kafka.brokers[0]: must be host:port', 'workflows[0].trigger.source: unknown source "crn" (known: crm)']);
  });

  it('does not change the object it is given', () => {
    const raw = baseConfig();
    const before = structuredClone(raw);
    validateConfig(raw, { SEAMWATCH_KAFKA_BROKERS: 'other:1' });
    expect(raw).toEqual(before);
  });

  it('treats an empty document as an empty mapping', () => {
    expect(validateConfig(null)).toEqual({ ok: false, problems: ['sources: required', 'store: required'] });
  });
});

describe('environment overrides', () => {
  it('win over the file for every connection setting and secret', () => {
    const result = validateConfig(baseConfig(), {
      SEAMWATCH_KAFKA_BROKERS: ' kafka-a:9092, kafka-b:9093 ,',
      SEAMWATCH_KAFKA_GROUP_ID: 'seamwatch-blue',
      SEAMWATCH_CLICKHOUSE_URL: 'https://ch.internal:8443',
      SEAMWATCH_CLICKHOUSE_DATABASE: 'sw_prod',
      SEAMWATCH_CLICKHOUSE_USER: 'writer',
      SEAMWATCH_CLICKHOUSE_PASSWORD: "p'a\"ss",
      SEAMWATCH_CLICKHOUSE_CLUSTER: 'prod_2x2',
      SEAMWATCH_HTTP_PORT: '9999',
      SEAMWATCH_LOG_LEVEL: 'warn',
    });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.kafka!.brokers).toEqual(['kafka-a:9092', 'kafka-b:9093']);
    expect(result.config.kafka!.groupId).toBe('seamwatch-blue');
    expect(result.config.store).toEqual({ kind: 'clickhouse', clickhouse: {
      url: 'https://ch.internal:8443',
      database: 'sw_prod',
      username: 'writer',
      password: "p'a\"ss",
      requestTimeout: 30_000,
      cluster: 'prod_2x2',
    } });
    expect(result.config.http.port).toBe(9999);
    expect(result.config.log.level).toBe('warn');
  });

  it('fill in a section the file does not have', () => {
    const result = validateConfig(
      { sources: [{ name: 'crm' }] },
      { SEAMWATCH_KAFKA_BROKERS: 'kafka-0:9092', SEAMWATCH_CLICKHOUSE_URL: 'http://ch:8123', SEAMWATCH_CLICKHOUSE_DATABASE: 'sw' },
    );
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.kafka!.brokers).toEqual(['kafka-0:9092']);
    expect(result.config.store).toMatchObject({ kind: 'clickhouse', clickhouse: { url: 'http://ch:8123', database: 'sw' } });
  });

  it('an empty variable is ignored and the file value stays', () => {
    const result = validateConfig(baseConfig(), { SEAMWATCH_KAFKA_BROKERS: '', SEAMWATCH_HTTP_PORT: '' });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.config.kafka!.brokers).toEqual(['kafka-0:9092']);
    expect(result.config.http.port).toBe(9470);
  });

  it('variables that are not overrides are ignored', () => {
    expect(validateConfig(baseConfig(), { SEAMWATCH_HTTP_HOST: '::', PATH: '/bin' }).ok).toBe(true);
  });

  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['a port that is not a number', { SEAMWATCH_HTTP_PORT: 'eighty' }, ['http.port (from SEAMWATCH_HTTP_PORT): Invalid input: expected number, received string']],
    ['a port out of range', { SEAMWATCH_HTTP_PORT: '70000' }, ['http.port (from SEAMWATCH_HTTP_PORT): Too big: expected number to be <=65535']],
    ['a broker without a port, inside the list it set', { SEAMWATCH_KAFKA_BROKERS: 'kafka-0:9092,kafka-1' }, ['kafka.brokers[1] (from SEAMWATCH_KAFKA_BROKERS): must be host:port']],
    ['a list of only commas', { SEAMWATCH_KAFKA_BROKERS: ' , ' }, ['kafka.brokers (from SEAMWATCH_KAFKA_BROKERS): Too small: expected array to have >=1 items']],
    ['a URL without its scheme', { SEAMWATCH_CLICKHOUSE_URL: 'clickhouse:8123' }, ['store.clickhouse.url (from SEAMWATCH_CLICKHOUSE_URL): must be an http:// or https:// URL']],
    ['a database that is not an identifier', { SEAMWATCH_CLICKHOUSE_DATABASE: 'sw; DROP' }, ['store.clickhouse.database (from SEAMWATCH_CLICKHOUSE_DATABASE): must be a plain identifier']],
    ['a cluster that is not an identifier', { SEAMWATCH_CLICKHOUSE_CLUSTER: 'prod 2x2' }, ['store.clickhouse.cluster (from SEAMWATCH_CLICKHOUSE_CLUSTER): must be a plain identifier']],
    ['an unknown log level', { SEAMWATCH_LOG_LEVEL: 'verbose' }, ['log.level (from SEAMWATCH_LOG_LEVEL): Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"']],
  ])('an invalid value names its variable: %s', (_label, env, problems) => {
    expect(problemsOfObject(() => undefined, env)).toEqual(problems);
  });

  it('a problem in the file next to an overridden key does not name the variable', () => {
    expect(problemsOfObject((c) => (c.kafka.clientId = 7), { SEAMWATCH_KAFKA_BROKERS: 'kafka-0:9092' })).toEqual([
      'kafka.clientId: Invalid input: expected string, received number',
    ]);
  });

  it('parseConfigText applies them too', () => {
    expect(problemsOf(MINIMAL, { SEAMWATCH_HTTP_PORT: '-1' })).toEqual(['http.port (from SEAMWATCH_HTTP_PORT): Invalid input: expected number, received string']);
    expect(parseConfigText(MINIMAL, 'test.yaml', { SEAMWATCH_HTTP_PORT: '1234' }).http.port).toBe(1234);
  });
});

describe('HTTP sources', () => {
  const STORE = 'store:\n  clickhouse: { url: "http://clickhouse:8123", database: seamwatch }\n';

  it('an HTTP-only file needs no kafka: section and gets its path, topic and signature defaults', () => {
    const text = `sources:
  - name: billing
    transport: http
    format: cloudevents
    http:
      signature: { header: Billing-Signature, secretEnv: BILLING_WEBHOOK_SECRET }
${STORE}`;
    const config = parseConfigText(text, 'test.yaml', { BILLING_WEBHOOK_SECRET: 's3cret' });
    expect(config.kafka).toBeUndefined();
    expect(config.sources[0]).toEqual({
      name: 'billing',
      transport: 'http',
      format: 'cloudevents',
      topic: 'http:billing',
      deadLetterTopic: '',
      http: { path: '/ingest/billing', signature: { header: 'billing-signature', secretEnv: 'BILLING_WEBHOOK_SECRET', tolerance: 300_000, encoding: 'hex' } },
    });
    // The secret is read from the environment by the collector; it never sits in the config.
    expect(JSON.stringify(config)).not.toContain('s3cret');
  });

  it('refuses HTTP source mistakes with their key paths', () => {
    const text = `sources:
  - name: crm
  - name: billing
    transport: http
    http:
      path: /ingest/hooks
      signature: { header: "Bad Header", secretEnv: MISSING_SECRET, tolerance: soon }
  - name: ticketing
    http: { path: /ingest/hooks }
  - name: support
    transport: http
    topic: support.events
${STORE}`;
    expect(problemsOf(text)).toEqual([
      'sources[1].http.signature.header: must be an HTTP header name',
      'sources[1].http.signature.tolerance: not a duration: "soon" (use e.g. 500ms, 30s, 5m, 4h, 7d)',
      'sources[2].http: only allowed when transport is "http"',
      'sources[3].topic: only allowed when transport is "kafka" (HTTP dead letters go to the store)',
      'sources[1].http.signature.secretEnv: environment variable MISSING_SECRET is not set',
    ]);
  });

  it('asks for kafka: only when a source reads from Kafka, naming that source', () => {
    const text = `sources:\n  - name: billing\n    transport: http\n  - name: crm\n${STORE}`;
    expect(problemsOf(text)).toEqual(['kafka: required: source "crm" (sources[1]) has transport "kafka"']);
  });

  it('refuses two HTTP sources on one path', () => {
    const text = `sources:\n  - name: billing\n    transport: http\n    http: { path: /in }\n  - name: crm\n    transport: http\n    http: { path: /in }\n${STORE}`;
    expect(problemsOf(text)).toEqual(['sources[1].http.path: "/in" is already the path of sources[0]']);
  });
});

describe('which ClickHouse the store uses', () => {
  const withStore = (store: unknown, env: NodeJS.ProcessEnv = {}) => {
    const result = validateConfig({ ...baseConfig(), store }, env);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    return result.config.store;
  };

  it('an empty store section is ClickHouse in the process, under the ignored .seamwatch folder', () => {
    expect(withStore({})).toEqual({ kind: 'embedded', embedded: { path: '.seamwatch/clickhouse', database: 'seamwatch' } });
  });

  it('kind embedded keeps its own path and database and ignores a clickhouse section', () => {
    expect(withStore({ kind: 'embedded', embedded: { path: '/var/lib/seamwatch', database: 'sw' }, clickhouse: { url: 'http://ch:8123' } })).toEqual({
      kind: 'embedded',
      embedded: { path: '/var/lib/seamwatch', database: 'sw' },
    });
  });

  it('a clickhouse url without a kind means the server, as before the embedded engine existed', () => {
    expect(withStore({ clickhouse: { url: 'http://ch:8123' } })).toEqual({
      kind: 'clickhouse',
      clickhouse: { url: 'http://ch:8123', database: 'seamwatch', username: 'default', password: '', requestTimeout: 30_000 },
    });
  });

  it('SEAMWATCH_CLICKHOUSE_URL switches a file that says embedded to that server', () => {
    expect(withStore({ kind: 'embedded' }, { SEAMWATCH_CLICKHOUSE_URL: 'http://ch:8123' })).toMatchObject({ kind: 'clickhouse', clickhouse: { url: 'http://ch:8123' } });
  });

  it('the other server variables alone do not leave the embedded engine', () => {
    expect(withStore({ kind: 'embedded' }, { SEAMWATCH_CLICKHOUSE_DATABASE: 'sw', SEAMWATCH_CLICKHOUSE_USER: 'u' }).kind).toBe('embedded');
  });

  it('kind clickhouse without a url is refused with the key to set', () => {
    expect(problemsOfObject((c) => (c.store = { kind: 'clickhouse' }))).toEqual([
      'store.clickhouse.url: required when kind is "clickhouse" (or set SEAMWATCH_CLICKHOUSE_URL)',
    ]);
  });

  it('an empty embedded path is refused', () => {
    expect(problemsOfObject((c) => (c.store = { kind: 'embedded', embedded: { path: '' } }))).toEqual(['store.embedded.path: must not be empty']);
  });
});
