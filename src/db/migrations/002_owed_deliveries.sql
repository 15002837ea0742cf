-- Delivery is owed, not attempted. Every transition inserts, in the same statement, one row per
-- channel it should reach; the row stays 'owed' until that channel took it. Jobs on the channel's
-- queue are only how owed rows get sent quickly: a row whose job was lost (Redis flushed, agent
-- killed) is leased again by the sweeper when its lease runs out. Rows delivered before this
-- migration are 'sent'.
ALTER TABLE vigil_deliveries
  ALTER COLUMN external_id DROP NOT NULL,
  ALTER COLUMN delivered_at DROP NOT NULL,
  ALTER COLUMN delivered_at DROP DEFAULT,
  ADD COLUMN state text NOT NULL DEFAULT 'sent' CHECK (state IN ('owed', 'sent', 'abandoned')),
  ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
  -- When the row may be tried (again): backoff after a failure, with jitter.
  ADD COLUMN next_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  -- Which job may send it, and until when; a lapsed lease may be taken by the sweeper.
  ADD COLUMN lease_id text,
  ADD COLUMN lease_until timestamptz,
  ADD COLUMN last_error text,
  -- Part of a storm: told in the channel's digest message rather than alone.
  ADD COLUMN in_digest boolean NOT NULL DEFAULT false,
  ADD COLUMN digest_id bigint,
  -- Set on a row that stands in for another channel's ("Slack unreachable since … — sent by email").
  ADD COLUMN fallback_from text,
  ADD COLUMN note text NOT NULL DEFAULT '',
  -- Set on a row whose content another channel has been asked to carry.
  ADD COLUMN handed_over boolean NOT NULL DEFAULT false;
-- The default stays 'sent': an agent of the previous version, still running during a rolling
-- upgrade, records deliveries without a state, and those went out. New code always names the state.

CREATE INDEX vigil_deliveries_owed ON vigil_deliveries (next_at) WHERE state = 'owed';
CREATE INDEX vigil_deliveries_lease ON vigil_deliveries (lease_id) WHERE state = 'owed';
CREATE INDEX vigil_deliveries_recent_opened ON vigil_deliveries (created_at) WHERE kind = 'opened';
-- What the sweeper may hand to another channel: owed or refused, not handed over yet.
CREATE INDEX vigil_deliveries_handover ON vigil_deliveries (created_at)
  WHERE NOT handed_over AND fallback_from IS NULL AND state IN ('owed', 'abandoned');
CREATE INDEX vigil_deliveries_digest ON vigil_deliveries (digest_id) WHERE digest_id IS NOT NULL;

-- A storm's digest: one message per channel listing the incidents that opened in it.
CREATE TABLE vigil_digests (
  id bigserial PRIMARY KEY,
  channel text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  last_at timestamptz NOT NULL DEFAULT now(),
  external_id text,
  channel_id text
);

-- A channel that failed for good (bad token, unknown channel, SMTP auth): nothing is sent to it until
-- a check passes again; what it owes is kept, and handed to the other channels meanwhile.
CREATE TABLE vigil_channel_status (
  channel text PRIMARY KEY,
  failed_since timestamptz NOT NULL,
  reason text NOT NULL,
  checked_at timestamptz NOT NULL DEFAULT now()
);

-- Escalation is owed too: due at the ack SLA, found by the sweeper, cleared by any transition out
-- of 'firing' or by the escalation itself.
ALTER TABLE vigil_incidents ADD COLUMN escalate_at timestamptz;
UPDATE vigil_incidents i SET escalate_at = started_at + ack_sla_ms * interval '1 millisecond'
  WHERE state = 'firing'
    AND NOT EXISTS (SELECT 1 FROM vigil_incident_transitions t WHERE t.incident_id = i.id AND t.kind = 'escalated');
CREATE INDEX vigil_incidents_escalate ON vigil_incidents (escalate_at) WHERE escalate_at IS NOT NULL;
