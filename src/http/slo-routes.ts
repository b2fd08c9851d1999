import type { Express, Request } from 'express';
import type { SloEngine } from '../slo/engine.ts';
import { bucketMinutesFor, seriesView, statusView } from '../slo/view.ts';
import type { Store } from '../domain/store.ts';

/** GET /api/v1/slos and /api/v1/slos/:name (status, plus SLI and budget series for charts). */
export function addSloRoutes(app: Express, engine: SloEngine, store: Store): void {
  app.get('/api/v1/slos', (_req, res) => {
    const statuses = new Map(engine.status().map((s) => [s.slo.name, s]));
    res.json({
      slos: engine.definitions.map((slo) => {
        const status = statuses.get(slo.name);
        return status ? statusView(status) : { name: slo.name, workflow: slo.workflow, owner: slo.owner, status: 'not evaluated yet' };
      }),
    });
  });

  app.get('/api/v1/slos/:name', async (req: Request<{ name: string }>, res) => {
    const slo = engine.definitions.find((s) => s.name === req.params.name);
    if (!slo) {
      res.status(404).json({ error: `no SLO named "${req.params.name}"`, known: engine.definitions.map((s) => s.name) });
      return;
    }
    const [status] = engine.status(slo.name);
    if (!status) {
      res.status(503).json({ error: `SLO "${slo.name}" has not been evaluated yet: no events have set event time` });
      return;
    }
    const bucket = bucketMinutesFor(status.at - status.windowStart);
    const buckets = await store.sloSeries(
      { slo: slo.name, fromMinute: Math.ceil(status.windowStart / 60_000), toMinute: Math.floor(status.at / 60_000) },
      bucket,
    );
    res.json({ ...statusView(status), series: { bucketMinutes: bucket, points: seriesView(slo, buckets) } });
  });
}
