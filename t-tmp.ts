import { Store } from './src/server/store.ts';
import { views } from './src/server/views.ts';
import { chartSvg } from './src/report/charts.ts';
const s = await Store.open({ dataDir: '/tmp/sv5' });
const { importFolders } = await import('./src/server/import.ts');
await importFolders(s, ['/tmp/fx/g']);
const h = await s.modelHistory('sentiment');
await chartSvg({ mark: 'point', data: { values: [{ a: 1 }] }, encoding: { x: { field: 'a', type: 'quantitative' } } });
const orig = (globalThis as any).performance;
for (let i = 0; i < 2; i++) { const t = performance.now(); await views.modelCharts(h!); console.log('all', performance.now() - t); }
await s.close();
