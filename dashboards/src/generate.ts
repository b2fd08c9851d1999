import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allDashboards, dashboardJson } from './dashboards.ts';

/** `npm run dashboards`: writes the dashboards built in dashboards.ts to dashboards/json/. */
const out = join(import.meta.dirname, '..', 'json');
mkdirSync(out, { recursive: true });
for (const [file, dashboard] of Object.entries(allDashboards())) {
  writeFileSync(join(out, file), dashboardJson(dashboard));
  console.log(`wrote dashboards/json/${file}`);
}
