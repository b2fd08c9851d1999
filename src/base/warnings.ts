/**
 * kafkajs 2.2.4 schedules a timer with a negative delay when it is not throttled (requestQueue
 * scheduleCheckPendingRequests), which Node 24 reports as a TimeoutNegativeWarning on every
 * start. Node treats the delay as 1 ms, which is what kafkajs means; this one warning is
 * dropped, every other one is still printed as Node would.
 */
export function quietKnownWarnings(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return;
    process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
  });
}
