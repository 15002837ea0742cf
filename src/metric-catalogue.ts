/**
 * Every metric Vigil exports, with the HELP text and labels /metrics shows. A name not listed here
 * cannot be emitted (a compile error, and a throw for anything that slips past the types), so an
 * operator's dashboard never meets a metric nobody documented. One line adds one.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  type: MetricType;
  help: string;
  labels: readonly string[];
  /** Histograms only: upper bounds in seconds. */
  buckets?: readonly number[];
}

const counter = (help: string, labels: readonly string[] = []): MetricSpec => ({
  type: 'counter',
  help,
  labels,
});
const gauge = (help: string, labels: readonly string[] = []): MetricSpec => ({ type: 'gauge', help, labels });
const histogram = (help: string, labels: readonly string[], buckets: readonly number[]): MetricSpec => ({
  type: 'histogram',
  help,
  labels,
  buckets,
});

/** From a fast HTTP check to a probe that hits its timeout. */
const probeBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** From a message sent at once to one that waited out a long outage. */
const deliveryBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];

export const catalogue = {
  vigil_events_total: counter('Events accepted by the rule engine'),
  vigil_events_rejected_total: counter('Events rejected, by reason', ['reason']),
  vigil_events_late_total: counter('Observations that came late or out of order, by rule', ['rule']),
  vigil_events_too_late_total: counter(
    'Observations older than anything their series keeps: counted, not applied',
    ['rule'],
  ),
  vigil_incidents_opened_total: counter('Incidents opened, by rule', ['rule']),
  vigil_notifications_total: counter('Notifications delivered, by channel and kind', ['channel', 'kind']),
  vigil_notifications_failed_total: counter('Failed delivery attempts', ['channel', 'reason']),
  vigil_notifications_retried_total: counter('Deliveries set for another attempt', ['channel']),
  vigil_notifications_fallback_total: counter('Notifications handed to another channel', ['from', 'to']),
  vigil_digests_total: counter('Storm digest messages sent or updated, by channel', ['channel']),
  vigil_sweeper_requeued_total: counter('Owed notifications queued again by the sweeper', ['channel']),
  vigil_escalations_total: counter('Incidents escalated after their acknowledgement SLA'),
  vigil_holds_released_total: counter(
    'Held incidents let go and told: inhibited (the source resolved) or flapping (stable again)',
    ['hold'],
  ),
  vigil_targets_unreachable: gauge(
    'Targets found unable to be paged at start (unknown Slack channel, bot not in it, bad address)',
  ),
  vigil_slack_interactions_total: counter(
    'Slack interactions (button presses), by transport (http, socket) and outcome (queued, ignored, refused reasons)',
    ['transport', 'outcome'],
  ),
  vigil_actions_total: counter(
    'Actions people asked for (ack, resolve, silence, …), by outcome (changed, unchanged)',
    ['action', 'outcome'],
  ),
  vigil_http_refused_total: counter('HTTP requests refused, by surface (api, ack) and reason', [
    'surface',
    'reason',
  ]),
  vigil_rules_reload_total: counter(
    'Rule reloads, by result: ok (the new set runs) or failed (the last good set keeps running)',
    ['result'],
  ),
  vigil_probe_runs_total: counter('Probe runs, by probe and outcome', ['probe', 'outcome']),
  vigil_heartbeats_total: counter('Outbound heartbeat calls, by outcome', ['outcome']),
  vigil_connection_errors_total: counter('Connection errors, by dependency', ['dependency']),
  vigil_log_lines_total: counter(
    'Log lines read, by outcome: skipped or matched (each line is one of the two); truncated and invalid flag lines also counted there',
    ['source', 'outcome'],
  ),
  vigil_log_errors_total: counter('Log source problems, by reason (unreadable, state, emit)', [
    'source',
    'reason',
  ]),
  vigil_source_events_total: counter('Events a source handed to the events queue (durable in Redis)', [
    'source',
    'kind',
  ]),
  vigil_source_rejected_total: counter('Input a source could not turn into an event, by source and reason', [
    'source',
    'reason',
  ]),

  vigil_notifications_owed: gauge('Transitions a channel should have told and has not', ['channel']),
  vigil_channel_up: gauge('1 while a channel delivers, 0 once it has failed', ['channel']),
  vigil_queue_jobs: gauge('Jobs in a queue, by state', ['queue', 'state']),
  vigil_queue_oldest_job_age_seconds: gauge('Age of the oldest waiting job (0: none)', ['queue']),
  vigil_incidents_open: gauge('Incidents not resolved, by severity', ['severity']),
  vigil_canary_age_seconds: gauge('Seconds since the end-to-end canary last came back'),
  vigil_threshold_rows_invalid: gauge(
    '1 while a thresholds table row cannot apply (the rule file default does)',
    ['rule', 'key'],
  ),
  vigil_log_files: gauge('Files a log source follows (rotated ones still being read included)', ['source']),

  vigil_remediation_runs_total: counter(
    'Remediation runs by how they ended (succeeded, failed, refused, …)',
    ['action', 'state'],
  ),
  vigil_remediation_disabled_total: counter('Targets switched off after failed runs in a row', ['action']),

  vigil_probe_duration_seconds: histogram('Probe run time', ['probe'], probeBuckets),
  vigil_notification_latency_seconds: histogram('Transition to delivery', ['channel'], deliveryBuckets),
} satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof catalogue;

export function specOf(name: string): MetricSpec | undefined {
  return Object.hasOwn(catalogue, name) ? catalogue[name as MetricName] : undefined;
}
