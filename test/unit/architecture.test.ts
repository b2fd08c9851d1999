import { describe, expect, it } from 'vitest';
import { importGraph, floorViolations, findCycles, FLOORS } from '../support/import-graph.ts';

// The floors of DESIGN.md, checked over the real import graph of src/: a circle or an import
// that goes up a floor fails here, so the layout cannot quietly rot again.
const graph = importGraph('src');

describe('how the code is laid out', () => {
  it('reads every source file and its relative imports', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('app.ts')?.internal).toContain('pipeline/pipeline.ts');
  });

  it('puts every file of src/ on a floor', () => {
    const unplaced = [...graph.keys()].filter((file) => FLOORS.every((f) => !f.folders.some((folder) => file === folder || file.startsWith(`${folder}/`))));
    expect(unplaced).toEqual([]);
  });

  it('has no import circles', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('imports only down: domain and base import nothing of the rest, stitch no I/O, adapters no slo/alerts', () => {
    expect(floorViolations(graph)).toEqual([]);
  });

  it('catches an import that goes up, and a circle (the check itself can fail)', () => {
    const bad = new Map([
      ['domain/event.ts', { internal: ['alerts/engine.ts'], external: [] }],
      ['stitch/stitcher.ts', { internal: ['domain/event.ts'], external: ['@clickhouse/client'] }],
      ['alerts/engine.ts', { internal: ['domain/event.ts'], external: [] }],
    ]);
    expect(floorViolations(bad)).toEqual([
      'domain/event.ts imports alerts/engine.ts (domain may import only: itself)',
      'stitch/stitcher.ts imports the package @clickhouse/client (stitch is pure: no I/O packages)',
    ]);
    expect(findCycles(bad)).toEqual([['alerts/engine.ts', 'domain/event.ts', 'alerts/engine.ts']]);
  });
});
