/**
 * One row of the fault table: a fresh set of topics, database, consumer group and PagerDuty
 * routing key; seamwatch as real processes on them; a realistic stream with known outcomes (the
 * test scenario's runs, a few tickets that get stuck and are paged, then resolved); and the
 * counting of what came out — stored, dead-lettered, double-counted, paged, resolved.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { SeamwatchProcess, freePort, writeConfig } from '../support/child.ts';
import type { PagerDutyContractServer } from '../support/pagerduty-server.ts';
import { T0, buildScenario, cloudEvent, scenarioConfig, type Scenario, type ScenarioTopics } from '../support/scenario.ts';
import { runMismatches } from '../support/runs.ts';
import { committedCount, groupLag, unique, waitFor } from '../support/services.ts';

/** Where the run's Kafka and ClickHouse are (the shared ones, or a fault's own). */
export interface FaultServices {
  brokers: string[];
  clickhouseUrl: string;
}

export interface FaultRow {
  fault: string;
  eventsIn: number;
  stored: number;
  deadLettered: number;
  deadLetteredExpected: number;
  /** SLO counts above the runs there are, and runs that should not exist. */
  doubleCounted: number;
  /** Runs whose final verdict is not the expected one, or missing from the SLO. */
  runsWrong: number;
  pagesExpected: number;
  pagesSent: number;
  /** An incident opened twice for one problem, or one more problem paged than there are. */
  doublePages: number;
  resolvesExpected: number;
  resolves: number;
  peakRssMb: number;
  /** Something else that went wrong (a process died, a wait timed out); empty when none. */
  failures: string[];
  notes: string[];
}

const STUCK_DETECTOR = (pagerUrl: string) => `
slos:
  # Counted, never burning (the scenario completes 70% of upgrades): its pages are not this table's.
  - { name: upgrade-success, workflow: plan-upgrade, objective: 50%, window: 30d, indicator: { success-ratio: {} } }
detectors:
  stuck:
    - name: stuck-ticket
      owner: support-ops
      start: { source: ticketing, type: ticket.opened }
      progress: [{ source: ticketing, type: ticket.triaged }]
      end: { source: ticketing, type: ticket.resolved }
      after: 4h
alerting: { keepFiringFor: 0s }
receivers:
  - name: pager
    pagerduty: { routingKeyEnv: SEAMWATCH_PD_KEY, url: "${pagerUrl}" }
routes:
  receiver: pager
  group_by: [team, detector]
  group_wait: 100ms
  group_interval: 300ms
`;

export interface FaultRunOptions {
  upgrades: number;
  tickets: number;
  partitions?: number;
  /** Replaces the scenario's messages (fuzz interleaved, say); the expectations stay the scenario's. */
  messages?: (scenario: Scenario, topics: ScenarioTopics) => Map<string, Message[]>;
  /** Dead letters beyond the scenario's own malformed messages. */
  extraDeadLetters?: number;
  /** The `pipeline:` section, as YAML. */
  pipeline?: string;
}

/** A message's event time: CloudEvents `time` (body or ce_time header), a webhook's `created`; NaN when none. */
function eventTime(message: Message): number {
  const header = message.headers?.['ce_time'];
  if (header !== undefined) return Date.parse(String(header));
  try {
    const body = JSON.parse(String(message.value)) as { time?: unknown; created?: unknown };
    if (typeof body.time === 'string') return Date.parse(body.time);
    if (typeof body.created === 'number') return body.created;
  } catch {
    // not JSON: fuzz
  }
  return Number.NaN;
}

/**
 * Every topic's messages merged by event time, each topic's own order kept; a message without
 * a time (fuzz) goes with the message before it.
 */
export function inTimeOrder(messages: Map<string, Message[]>): { topic: string; message: Message }[] {
  const all: { topic: string; message: Message; time: number; seq: number }[] = [];
  let seq = 0;
  for (const [topic, list] of messages) {
    let last = Number.NEGATIVE_INFINITY;
    for (const message of list) {
      const t = eventTime(message);
      // Within a topic, time never goes back in this ordering: a topic's order is kept.
      last = Number.isNaN(t) ? last : Math.max(last, t);
      all.push({ topic, message, time: last, seq: seq++ });
    }
  }
  all.sort((a, b) => a.time - b.time || a.seq - b.seq);
  return all.map(({ topic, message }) => ({ topic, message }));
}

/** The last few error lines of a process's log (or its last lines when it did not log JSON), shortened. */
function lastErrors(output: string): string {
  const lines = output.split('\n').filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => !l.startsWith('{') || /"level":(50|60)/.test(l));
  return errors.slice(-3).map((l) => l.slice(0, 300)).join(' | ');
}

export class FaultRun {
  readonly name: string;
  readonly id: string;
  readonly topics: ScenarioTopics;
  readonly groupId: string;
  readonly scenario: Scenario;
  readonly messages: Map<string, Message[]>;
  readonly processes: SeamwatchProcess[] = [];
  readonly notes: string[] = [];
  readonly failures: string[] = [];
  private readonly services: FaultServices;
  private readonly pagerDuty: PagerDutyContractServer;
  private readonly options: FaultRunOptions;
  private readonly routingKey = randomBytes(16).toString('hex');
  private readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  private configFile = '';
  private ch: ClickHouseStore | undefined;
  private peakRss = 0;
  /** Messages sent so far by produce(). */
  produced = 0;
  private sampler: NodeJS.Timeout | undefined;
  /** Tickets that get stuck (the scenario's every fourth): one page each, resolved at the end. */
  readonly stuckTickets: string[];
  resolvesExpected: number;

  constructor(name: string, services: FaultServices, pagerDuty: PagerDutyContractServer, options: FaultRunOptions) {
    this.name = name;
    this.services = services;
    this.pagerDuty = pagerDuty;
    this.options = options;
    this.id = unique(`fault_${name.replace(/[^a-z0-9]/g, '')}`);
    this.topics = { crm: `${this.id}.crm`, billing: `${this.id}.billing`, ticketing: `${this.id}.ticketing` };
    this.groupId = `${this.id}-group`;
    this.scenario = buildScenario(this.topics, options.upgrades, options.tickets, this.id.slice(-6), options.partitions ?? 4);
    this.messages = options.messages ? options.messages(this.scenario, this.topics) : this.scenario.messages;
    this.stuckTickets = Array.from({ length: options.tickets }, (_, i) => `${this.id.slice(-6)}-tk-${i}`).filter((_, i) => i % 4 === 3);
    this.resolvesExpected = this.stuckTickets.length;
    // A stuck ticket resolved at the end completes its run, late.
    for (const c of this.stuckTickets) this.scenario.expectedRuns.set(`support-ticket:${c}`, { state: 'completed', deadlineMissed: true });
    this.kafka = new Kafka({ clientId: `faults-${name}`, brokers: services.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 300 } });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer();
  }

  get all(): string[] {
    return Object.values(this.topics);
  }

  get totalMessages(): number {
    return [...this.messages.values()].reduce((n, l) => n + l.length, 0);
  }

  async setUp(): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    await this.admin.createTopics({ topics: this.all.map((topic) => ({ topic, numPartitions: this.options.partitions ?? 4 })), waitForLeaders: true });
    this.configFile = writeConfig(
      scenarioConfig(this.topics, {
        database: this.id,
        groupId: this.groupId,
        brokers: this.services.brokers,
        clickhouseUrl: this.services.clickhouseUrl,
        store: `{ kind: clickhouse, clickhouse: { url: "${this.services.clickhouseUrl}", database: ${this.id} } }`,
        // Event time is moved by the stream's own heartbeats, never by the wall clock (T0 is past).
        pipeline: this.options.pipeline ?? '{ flushInterval: 200ms, idleAdvanceAfter: 1h }',
        slos: STUCK_DETECTOR(this.pagerDuty.url),
      }),
    );
    this.sampler = setInterval(() => this.sampleRss(), 250);
    this.sampler.unref();
  }

  /** Starts one more seamwatch on the run's config and waits until it is ready. */
  async start(): Promise<SeamwatchProcess> {
    const p = new SeamwatchProcess(this.configFile, await freePort(), { SEAMWATCH_PD_KEY: this.routingKey });
    this.processes.push(p);
    await p.ready(120_000);
    return p;
  }

  private sampleRss(): void {
    for (const p of this.processes) {
      if (p.child.exitCode !== null || p.child.signalCode !== null || p.child.pid === undefined) continue;
      try {
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'))?.[1] ?? 0);
        this.peakRss = Math.max(this.peakRss, kb / 1024);
      } catch {
        // exited between the check and the read
      }
    }
  }

  /**
   * Produces in event-time order across the topics (as live sources would send) at about `rate`
   * messages a second; a send that fails (the broker away) is tried again until it goes
   * through. Returns the rate reached.
   */
  async produce(messages: Map<string, Message[]> = this.messages, rate = 10_000, chunk = 1_000): Promise<number> {
    const ordered = inTimeOrder(messages);
    const started = Date.now();
    let sendRetries = 0;
    for (let i = 0; i < ordered.length; i += chunk) {
      const byTopic = new Map<string, Message[]>();
      for (const { topic, message } of ordered.slice(i, i + chunk)) {
        const list = byTopic.get(topic);
        if (list) list.push(message);
        else byTopic.set(topic, [message]);
      }
      const topicMessages = [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
      for (;;) {
        try {
          await this.producer.sendBatch({ topicMessages });
          this.produced += topicMessages.reduce((n, t) => n + t.messages.length, 0);
          break;
        } catch {
          sendRetries++;
          await new Promise((r) => setTimeout(r, 1_000));
        }
      }
      const due = started + ((i + chunk) / rate) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    }
    if (sendRetries > 0) this.notes.push(`${sendRetries} producer sends retried`);
    return Math.round(ordered.length / ((Date.now() - started) / 1000));
  }

  committed(): Promise<number> {
    return committedCount(this.admin, this.groupId, this.all);
  }

  /** Waits until this fraction of the messages is committed. */
  async waitCommitted(fraction: number, timeoutMs = 120_000): Promise<void> {
    const total = this.totalMessages;
    await waitFor(`${Math.round(fraction * 100)}% committed`, async () => (await this.committed()) >= total * fraction, timeoutMs, 50);
  }

  async waitCaughtUp(timeoutMs = 180_000): Promise<void> {
    await waitFor('the group to have committed everything', async () => (await groupLag(this.admin, this.groupId, this.all)) === 0, timeoutMs, 250);
  }

  /** What PagerDuty took for this run's routing key. */
  private delivered() {
    return this.pagerDuty.requests.filter((r) => r.status === 202 && (r.body as { routing_key?: string })?.routing_key === this.routingKey).map((r) => r.body as { dedup_key: string; event_action: string });
  }

  private pagedKeys(): Set<string> {
    return new Set(this.delivered().filter((b) => b.event_action === 'trigger').map((b) => b.dedup_key));
  }

  /**
   * Waits for the stuck tickets' pages, then resolves the tickets (`beforeResolve` may script
   * PagerDuty first) and waits for the resolves.
   */
  async pageAndResolve(beforeResolve?: () => void | Promise<void>): Promise<void> {
    await this.waitCaughtUp();
    await waitFor('every stuck ticket paged', async () => this.pagedKeys().size >= this.stuckTickets.length, 90_000).catch((e: unknown) => this.failures.push(String(e)));
    await beforeResolve?.();
    const at = this.heartbeatTime() + 60_000;
    await this.producer.sendBatch({
      topicMessages: [{ topic: this.topics.ticketing, messages: this.stuckTickets.map((c) => cloudEvent('ticketing', 'ticket.resolved', `tkt-res-${c}`, c, at, false)) }],
    });
    await this.waitCaughtUp();
    await waitFor('the stuck tickets resolved on PagerDuty', async () => this.resolvedKeys().size >= this.resolvesExpected, 60_000).catch((e: unknown) => this.failures.push(String(e)));
  }

  /** Where the scenario's closing heartbeats put event time (see buildScenario). */
  private heartbeatTime(): number {
    return T0 + Math.max(this.options.upgrades, this.options.tickets * 7) * 1_000 + 86_400_000;
  }

  private resolvedKeys(): Set<string> {
    return new Set(this.delivered().filter((b) => b.event_action === 'resolve').map((b) => b.dedup_key));
  }

  private store(): ClickHouseStore {
    this.ch ??= new ClickHouseStore({ url: this.services.clickhouseUrl, database: this.id, username: 'default', password: '', requestTimeout: 60_000, logger: silentLogger() });
    return this.ch;
  }

  /** Counts what came out, once every run has its verdict (or the wait gave up). */
  async measure(): Promise<FaultRow> {
    const ch = this.store();
    const upgrades = [...this.scenario.expectedRuns.keys()].filter((r) => r.startsWith('plan-upgrade:')).length;
    const slo = async () => {
      const [row] = await ch.rows<{ total: string }>(`SELECT sum(total) AS total FROM ${this.id}.slo_minutes FINAL WHERE slo = 'upgrade-success'`);
      return Number(row?.total ?? 0);
    };
    await waitFor('every run with its verdict and the SLO counted', async () => {
      const { wrong, unexpected } = await runMismatches(ch, this.id, this.scenario);
      return wrong.length === 0 && unexpected.length === 0 && (await slo()) === upgrades;
    }, 90_000).catch((e: unknown) => this.failures.push(String(e)));
    const [events] = await ch.rows<{ distinct: string }>(`SELECT uniqExact(source, event_id) AS distinct FROM ${this.id}.events`);
    const [letters] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${this.id}.dead_letters FINAL`);
    const { wrong, unexpected } = await runMismatches(ch, this.id, this.scenario);
    const sloTotal = await slo();
    const paged = this.pagedKeys();
    const opened = [...paged].reduce((n, key) => n + Math.max(0, (this.pagerDuty.incident(key)?.alertsOpened ?? 1) - 1), 0);
    for (const p of this.processes) {
      const died = p.child.exitCode !== null && p.child.exitCode !== 0 && p.child.signalCode === null;
      if (died) this.failures.push(`a seamwatch process exited with ${p.child.exitCode}: ${lastErrors(p.output)}`);
    }
    if (this.failures.length > 0) for (const p of this.processes) this.notes.push(`seamwatch on :${p.port} last errors: ${lastErrors(p.output) || 'none'}`);
    return {
      fault: this.name,
      eventsIn: this.scenario.distinctEvents + this.stuckTickets.length,
      stored: Number(events?.distinct ?? 0),
      deadLettered: Number(letters?.n ?? 0),
      deadLetteredExpected: this.scenario.malformed.length + (this.options.extraDeadLetters ?? 0),
      doubleCounted: Math.max(0, sloTotal - upgrades) + unexpected.length,
      runsWrong: wrong.length + Math.max(0, upgrades - sloTotal),
      pagesExpected: this.stuckTickets.length,
      pagesSent: paged.size,
      doublePages: opened + Math.max(0, paged.size - this.stuckTickets.length),
      resolvesExpected: this.resolvesExpected,
      resolves: this.resolvedKeys().size,
      peakRssMb: Math.round(this.peakRss),
      failures: this.failures,
      notes: this.notes,
    };
  }

  async cleanup(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    for (const p of this.processes) await p.kill();
    await this.store().command(`DROP DATABASE IF EXISTS ${this.id}`).catch(() => undefined);
    await this.store().shutdown();
    await this.admin.deleteTopics({ topics: [...this.all, ...this.all.map((t) => `${t}.dlq`)] }).catch(() => undefined);
    await this.producer.disconnect();
    await this.admin.disconnect();
  }
}
