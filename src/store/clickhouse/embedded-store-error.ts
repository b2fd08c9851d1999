/**
 * The embedded engine could not open its data directory. chdb's error does not say why (the
 * engine prints that to stderr); the usual reason is another process holding the directory,
 * since ClickHouse locks it for one process. Permanent: retrying does not help while it runs.
 */
export class EmbeddedStoreError extends Error {
  constructor(path: string, cause: unknown) {
    super(
      `cannot open the embedded ClickHouse data directory ${path} (store.embedded.path): is another process using it? ` +
        'One process owns an embedded store: stop the other seamwatch (or run `slo status` while seamwatch is stopped), ' +
        `or use a ClickHouse server (store.kind: clickhouse) to run several. (${cause instanceof Error ? cause.message : String(cause)})`,
      { cause },
    );
    this.name = 'EmbeddedStoreError';
  }
}
