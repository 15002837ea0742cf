-- Incidents: one row per firing alert series. At most one open incident per fingerprint,
-- so two agents that see the same condition at once open one incident.
CREATE TABLE vigil_incidents (
  id bigserial PRIMARY KEY,
  fingerprint text NOT NULL,
  rule_id text NOT NULL,
  title text NOT NULL,
  category text NOT NULL,
  severity text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}'::jsonb,
  state text NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  value double precision,
  summary text NOT NULL DEFAULT '',
  started_at timestamptz NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at timestamptz,
  ack_sla_ms bigint NOT NULL,
  seq integer NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX vigil_incidents_open_fingerprint ON vigil_incidents (fingerprint) WHERE state <> 'resolved';
-- One incident per fire of a series: an agent acting late on a fire another already handled
-- (and maybe resolved) finds that incident instead of opening a second one.
CREATE UNIQUE INDEX vigil_incidents_fire ON vigil_incidents (fingerprint, started_at);
CREATE INDEX vigil_incidents_state ON vigil_incidents (state, started_at DESC);

-- Audit trail: every transition of every incident, in order.
CREATE TABLE vigil_incident_transitions (
  id bigserial PRIMARY KEY,
  incident_id bigint NOT NULL REFERENCES vigil_incidents (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  from_state text,
  to_state text NOT NULL,
  -- What happened: opened, resolved, escalated, acknowledged (two can share from/to states).
  kind text NOT NULL,
  actor text NOT NULL,
  value double precision,
  note text NOT NULL DEFAULT '',
  at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (incident_id, seq)
);

-- One row per notification actually delivered: the worker checks it before sending, so a
-- re-delivered job never posts twice; `external_id` is what later messages thread onto.
CREATE TABLE vigil_deliveries (
  incident_id bigint NOT NULL REFERENCES vigil_incidents (id) ON DELETE CASCADE,
  channel text NOT NULL,
  seq integer NOT NULL,
  kind text NOT NULL,
  external_id text NOT NULL,
  channel_id text,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, channel, seq)
);

-- The alert thresholds table: the numbers, tunable live. Rule files hold the defaults.
CREATE TABLE vigil_thresholds (
  rule_id text NOT NULL,
  key text NOT NULL,
  value double precision NOT NULL,
  updated_by text NOT NULL DEFAULT current_user,
  updated_at timestamptz NOT NULL DEFAULT now(),
  reason text NOT NULL DEFAULT '',
  PRIMARY KEY (rule_id, key)
);

CREATE TABLE vigil_threshold_history (
  id bigserial PRIMARY KEY,
  rule_id text NOT NULL,
  key text NOT NULL,
  old_value double precision,
  new_value double precision,
  changed_by text NOT NULL,
  reason text NOT NULL DEFAULT '',
  changed_at timestamptz NOT NULL DEFAULT now()
);

-- However a threshold changes (CLI, API or plain SQL), it is audited and every agent is woken.
-- A plain-SQL UPDATE that leaves updated_by/updated_at alone is credited to the database user,
-- not to whoever set the row last.
-- SET search_path FROM CURRENT: the function finds its tables in Vigil's schema whatever the
-- search_path of the session that changes a threshold.
CREATE FUNCTION vigil_threshold_audit() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  actor text;
  why text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO vigil_threshold_history (rule_id, key, old_value, new_value, changed_by, reason)
    VALUES (OLD.rule_id, OLD.key, OLD.value, NULL, current_user, 'deleted');
    PERFORM pg_notify('vigil_thresholds', OLD.rule_id);
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.value IS NOT DISTINCT FROM OLD.value THEN
    RETURN NEW;
  END IF;
  actor := NEW.updated_by;
  why := NEW.reason;
  IF TG_OP = 'UPDATE' AND NEW.updated_by IS NOT DISTINCT FROM OLD.updated_by
     AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    actor := current_user;
    why := '';
  END IF;
  INSERT INTO vigil_threshold_history (rule_id, key, old_value, new_value, changed_by, reason)
  VALUES (NEW.rule_id, NEW.key, CASE WHEN TG_OP = 'UPDATE' THEN OLD.value END, NEW.value, actor, why);
  PERFORM pg_notify('vigil_thresholds', NEW.rule_id);
  RETURN NEW;
END $$;

CREATE TRIGGER vigil_threshold_audit AFTER INSERT OR UPDATE OR DELETE ON vigil_thresholds
  FOR EACH ROW EXECUTE FUNCTION vigil_threshold_audit();
