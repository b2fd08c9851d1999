#!/usr/bin/env node
// Readiness probe for the local Kafka broker, used by deploy/local/kafka.sh.
// Asks the broker itself (admin connect + describeCluster) instead of sleeping
// or grepping its log, retrying until it answers or the timeout runs out.
//
//   node deploy/local/kafka-ready.mjs [--brokers 127.0.0.1:19092] [--timeout 90] [--pid N]
//   node deploy/local/kafka-ready.mjs --deps-only   # only check that kafkajs loads
//
// Exit 0 when the broker answers; 1 with the last error otherwise; 2 when kafkajs
// is missing. --pid makes it give up at once if that process (the broker) exits.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// createRequire rather than `import ... from 'kafkajs'`: same lookup through the
// repo's node_modules (kafkajs is a CommonJS package), but NODE_PATH is honoured
// too, which ESM imports ignore; handy to run this before `npm ci` has been run.
const require = createRequire(import.meta.url);

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

let Kafka, logLevel;
try {
  ({ Kafka, logLevel } = require('kafkajs'));
} catch (err) {
  console.error(`kafka-ready: cannot load kafkajs (${err.code ?? err.message}); run \`npm ci\` in the repo first`);
  process.exit(2);
}
if (process.argv.includes('--deps-only')) process.exit(0);

const brokers = arg('brokers', process.env.SEAMWATCH_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const timeoutMs = Number(arg('timeout', '90')) * 1000;
const pid = arg('pid', undefined);

// Alive = exists and is not a zombie (a broker that died during startup stays a
// zombie until kafka.sh, its parent, exits, and signal 0 still reaches zombies).
function brokerAlive() {
  if (!pid) return true;
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${Number(pid)}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function probe() {
  // One short attempt per round; our loop does the retrying, not kafkajs.
  const kafka = new Kafka({
    clientId: 'seamwatch-kafka-ready',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length) throw new Error('describeCluster returned no brokers');
    return cluster;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

const deadline = Date.now() + timeoutMs;
let lastError;
for (;;) {
  try {
    await probe();
    process.exit(0);
  } catch (err) {
    lastError = err;
  }
  if (!brokerAlive()) {
    console.error(`kafka-ready: broker process ${pid} exited; last error: ${lastError?.message ?? lastError}`);
    process.exit(1);
  }
  if (Date.now() >= deadline) {
    console.error(
      `kafka-ready: no answer from ${brokers.join(',')} within ${timeoutMs / 1000} s; last error: ${lastError?.message ?? lastError}`,
    );
    process.exit(1);
  }
  await sleep(250);
}
