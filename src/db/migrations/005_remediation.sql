-- Auto-remediation: every run a rule asked for and what became of it, step by step. The row is the
-- truth; a `remediate` job is only how it gets done quickly (the sweeper re-queues a run left
-- waiting with no job, and records a run whose agent died as interrupted).
CREATE TABLE vigil_remediation_runs (
  id bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES vigil_incidents (id) ON DELETE CASCADE,
  rule_id text NOT NULL,
  -- Which entry of the rule's `remediate` list, and which try of it for this incident (a run
  -- interrupted by a dying agent is followed by a new one, judged by the guards again).
  entry integer NOT NULL,
  attempt integer NOT NULL DEFAULT 1,
  target text NOT NULL,
  action text NOT NULL,
  state text NOT NULL CHECK (state IN ('requested', 'awaiting-approval', 'approved', 'running', 'succeeded',
    'failed', 'refused', 'rejected', 'expired', 'skipped', 'dry-run', 'interrupted')),
  dry_run boolean NOT NULL DEFAULT false,
  -- One line: what it did, or why it did not run.
  outcome text NOT NULL DEFAULT '',
  requested_at timestamptz NOT NULL DEFAULT now(),
  -- Cooldown: not to start before this.
  not_before timestamptz,
  approval_expires_at timestamptz,
  decided_by text,
  decided_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  -- While running: the agent doing it and until when its lease holds (renewed as it goes).
  agent text,
  lease_until timestamptz,
  -- The rule's probe passed after the action (null: not verified, e.g. never ran).
  verified boolean,
  -- After the fact: its incident's series fired again within the recurrence window (a failed run).
  recurred_at timestamptz,
  recurred_incident bigint,
  UNIQUE (incident_id, entry, attempt)
);
CREATE INDEX vigil_remediation_runs_target ON vigil_remediation_runs (target, requested_at DESC);
CREATE INDEX vigil_remediation_runs_open ON vigil_remediation_runs (state)
  WHERE state IN ('requested', 'awaiting-approval', 'approved', 'running');
-- One run at a time per target: the Redis lock keeps them apart, this holds even if Redis lost it.
CREATE UNIQUE INDEX vigil_remediation_runs_one_running ON vigil_remediation_runs (target) WHERE state = 'running';

CREATE TABLE vigil_remediation_steps (
  run_id bigint NOT NULL REFERENCES vigil_remediation_runs (id) ON DELETE CASCADE,
  n integer NOT NULL,
  name text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'failed', 'skipped')),
  detail text NOT NULL DEFAULT '',
  -- Bounded (see remediate/action.ts): the end of a program's output, the ids a query fixed.
  output text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, n)
);

-- A target whose runs kept failing: switched off until a person switches it on again. The row stays
-- (enabled_at set): failures before it was switched on do not count again.
CREATE TABLE vigil_remediation_disabled (
  target text PRIMARY KEY,
  since timestamptz NOT NULL DEFAULT now(),
  reason text NOT NULL,
  runs bigint[] NOT NULL DEFAULT '{}',
  enabled_at timestamptz
);

-- Why an incident is paged before its ack SLA (remediation gave up or failed): its escalation says so.
ALTER TABLE vigil_incidents ADD COLUMN escalate_why text;

-- A transition about a run (its request for approval, its outcome) names it: the Slack message
-- asking for approval carries the run's id in its buttons.
ALTER TABLE vigil_incident_transitions ADD COLUMN run_id bigint;
