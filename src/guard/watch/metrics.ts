/**
 * Prometheus metrics of the proxy (prom-client, its own registry so nothing global leaks in): requests by
 * outcome, instances, findings by rule and action, upstream failures by reason, the guard's own time per
 * request (upstream excluded), the open window's size, and the triggers learned at run time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function guardMetrics() {
  const registry = new Registry();
  const requests = new Counter({
    name: 'antidote_guard_requests_total',
    help: 'Predict requests by outcome (pass, flag, block, bad_request, too_large, upstream_error, upstream_client_error, error)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const instances = new Counter({
    name: 'antidote_guard_instances_total',
    help: 'Instances scored and counted into windows',
    registers: [registry],
  });
  const findings = new Counter({
    name: 'antidote_guard_findings_total',
    help: 'Findings by rule and the action the policy gave them',
    labelNames: ['rule', 'action'] as const,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'antidote_guard_upstream_errors_total',
    help: 'Upstream failures answered with 502, by reason (connect, timeout, status, malformed, too_large)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'antidote_guard_checks_skipped_total',
    help: 'Instance checks that could not run on an instance (no model given, not selected, STRIP budget spent or upstream failure), by check',
    labelNames: ['check'] as const,
    registers: [registry],
  });
  const overhead = new Histogram({
    name: 'antidote_guard_overhead_seconds',
    help: "The guard's own time per request, upstream time excluded",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1],
    registers: [registry],
  });
  const windowInstances = new Gauge({
    name: 'antidote_guard_window_instances',
    help: 'Instances counted in the open window',
    registers: [registry],
  });
  const windowIndex = new Gauge({
    name: 'antidote_guard_window_index',
    help: 'Index of the open window',
    registers: [registry],
  });
  const alarms = new Gauge({
    name: 'antidote_guard_window_alarms',
    help: 'Window findings currently flagging or blocking requests',
    registers: [registry],
  });
  const learned = new Gauge({
    name: 'antidote_guard_learned_triggers',
    help: 'Triggers guard/learned-trigger has confirmed (restored from --state included); each new one is worth an alert',
    registers: [registry],
  });
  return {
    registry,
    learned,
    requests,
    instances,
    findings,
    upstreamErrors,
    skipped,
    overhead,
    windowInstances,
    windowIndex,
    alarms,
  };
}
export type GuardMetrics = ReturnType<typeof guardMetrics>;
