/** The OpenAPI 3.1 description of the routes, generated from the router so it cannot drift from it. */
import { z } from 'zod';
import type { Route } from './http.js';
import { ReviewPostSchema, RunPostSchema } from './schema.js';

const BODIES: Record<string, z.ZodType> = {
  'POST /api/runs': RunPostSchema,
  'POST /api/runs/:id/reviews': ReviewPostSchema,
};

export function openApi(routes: Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const p = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const body = BODIES[`${r.method} ${r.path}`];
    const op: Record<string, unknown> = {
      summary: r.summary,
      ...(params.length ? { parameters: params } : {}),
      ...(r.role ? { security: [{ bearer: [] }], 'x-role': r.role } : { security: [] }),
      ...(r.maxBody !== undefined
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: body ? z.toJSONSchema(body, { io: 'input' }) : { type: 'object' },
                },
              },
            },
          }
        : {}),
      responses: {
        '200': { description: 'OK', content: { 'application/json': {} } },
        ...(r.role
          ? {
              '401': { description: 'missing or unknown token' },
              '403': { description: `needs the ${r.role} role` },
            }
          : {}),
        ...(r.maxBody !== undefined
          ? {
              '400': { description: 'invalid input' },
              '413': { description: `body over ${r.maxBody} bytes` },
            }
          : {}),
        '429': { description: 'rate limit' },
      },
    };
    paths[p] = { ...(paths[p] ?? {}), [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Antidote server', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
