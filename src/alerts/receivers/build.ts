import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PagerDutyNotifier } from '../pagerduty/notifier.ts';
import type { ResolvedReceiver } from './config.ts';
import type { ManagedReceiver } from './managed-receiver.ts';
import { PagerDutyReceiver } from './pagerduty-receiver.ts';
import { WebhookReceiver } from './webhook-receiver.ts';

export interface ReceiverDependencies {
  registry: Registry;
  logger: Logger;
  /** seamwatch's address as people reach it: webhook `externalURL`, PagerDuty `client_url`. */
  externalUrl: string;
  /** Whether a receiver has an alert triggered and not yet resolved (the notification log). */
  isOpen?: (receiver: string, fingerprint: string) => boolean;
}

/** The configured receivers; every PagerDuty receiver shares one notifier (config checks they share its URL). */
export function buildReceivers(configs: readonly ResolvedReceiver[], deps: ReceiverDependencies): ManagedReceiver[] {
  let notifier: PagerDutyNotifier | undefined;
  return configs.map((config) => {
    if ('webhook' in config) {
      return new WebhookReceiver({ name: config.name, url: config.webhook.url, externalUrl: deps.externalUrl, logger: deps.logger });
    }
    notifier ??= new PagerDutyNotifier({
      registry: deps.registry,
      logger: deps.logger,
      clientUrl: deps.externalUrl,
      ...(config.pagerduty.url ? { url: config.pagerduty.url } : {}),
    });
    return new PagerDutyReceiver(config.name, notifier, config.pagerduty.routingKey, deps.isOpen ?? (() => false));
  });
}
