-- On-call: where an incident is told (targets), how far its escalation got, holds (silenced,
-- inhibited, flapping), acknowledgements that expire, and what people said about it.
ALTER TABLE vigil_incidents
  -- Target names (vigil.yaml `targets`) its route gave it at open; told again on every transition.
  ADD COLUMN targets text[] NOT NULL DEFAULT '{}',
  -- Escalation policy name (vigil.yaml `escalation.policies`) and the last step taken (0: none yet).
  ADD COLUMN policy text,
  ADD COLUMN escalation_step integer NOT NULL DEFAULT 0,
  -- An acknowledgement that lapses: the incident is firing again (and re-notified) after this.
  ADD COLUMN ack_expires_at timestamptz,
  -- Who resolved it: the agent's id (condition cleared) or a person (resolved by hand).
  ADD COLUMN resolved_by text,
  -- Recorded but not sent: matched a silence, inhibited by another incident, or its series is flapping.
  ADD COLUMN held text CHECK (held IN ('silenced', 'inhibited', 'flapping')),
  -- What holds it: the silence id, the inhibiting incident id, or the flapping series.
  ADD COLUMN held_by text;
CREATE INDEX vigil_incidents_held ON vigil_incidents (held) WHERE held IS NOT NULL AND state <> 'resolved';
CREATE INDEX vigil_incidents_ack_expires ON vigil_incidents (ack_expires_at) WHERE ack_expires_at IS NOT NULL;
CREATE INDEX vigil_incidents_fingerprint ON vigil_incidents (fingerprint, started_at DESC);

-- A delivery goes to a channel (the adapter and its queue) and a target on it (a Slack channel, an
-- email list). '' is the channel's default destination (slack.channel, email.to), as before.
ALTER TABLE vigil_deliveries ADD COLUMN target text NOT NULL DEFAULT '',
  -- An escalation step's own target: its message mentions the target's people (`mention`). Others
  -- told of the same step (a reply in their thread) are not paged.
  ADD COLUMN page boolean NOT NULL DEFAULT false;
ALTER TABLE vigil_deliveries DROP CONSTRAINT vigil_deliveries_pkey;
ALTER TABLE vigil_deliveries ADD PRIMARY KEY (incident_id, channel, target, seq);

-- Silences: label matchers over a time window, with who and why. Matchers are
-- [{ "name": "rule", "op": "=", "value": "api-health" }]; names are labels or rule/severity/category.
CREATE TABLE vigil_silences (
  id bigserial PRIMARY KEY,
  matchers jsonb NOT NULL,
  starts_at timestamptz NOT NULL DEFAULT now(),
  ends_at timestamptz NOT NULL,
  created_by text NOT NULL,
  reason text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expired_at timestamptz,
  expired_by text,
  CHECK (ends_at > starts_at)
);
CREATE INDEX vigil_silences_active ON vigil_silences (ends_at) WHERE expired_at IS NULL;

-- A series changing state too often: held in one flapping notice until it has been stable a while.
CREATE TABLE vigil_flapping (
  fingerprint text PRIMARY KEY,
  since timestamptz NOT NULL DEFAULT now(),
  -- The incident the "flapping" notice was sent about; the "stable again" notice threads onto it.
  incident_id bigint REFERENCES vigil_incidents (id) ON DELETE SET NULL,
  last_change timestamptz NOT NULL DEFAULT now()
);

-- Email acknowledge links: single use. The token is signed and carries its expiry; this row is what
-- makes a second use fail.
CREATE TABLE vigil_ack_tokens (
  jti text PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES vigil_incidents (id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by text
);

-- What people said about an incident ("not actionable"): per rule, for noise reports.
CREATE TABLE vigil_feedback (
  id bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES vigil_incidents (id) ON DELETE CASCADE,
  rule_id text NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  note text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, kind, actor)
);
CREATE INDEX vigil_feedback_rule ON vigil_feedback (rule_id, at DESC);
