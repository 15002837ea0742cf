-- Agents in different schemas share the 'vigil_thresholds' channel: the payload now says whose table
-- changed (`<schema>:<rule>`), so each agent reloads only for its own. A row deleted by the CLI
-- (revert, reset) is credited to who asked and why, passed as `SET LOCAL vigil.changed_by` /
-- `vigil.reason`; a plain-SQL DELETE stays credited to the database user.
CREATE OR REPLACE FUNCTION vigil_threshold_audit() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  actor text;
  why text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO vigil_threshold_history (rule_id, key, old_value, new_value, changed_by, reason)
    VALUES (OLD.rule_id, OLD.key, OLD.value, NULL,
      coalesce(nullif(current_setting('vigil.changed_by', true), ''), current_user),
      coalesce(nullif(current_setting('vigil.reason', true), ''), 'deleted'));
    PERFORM pg_notify('vigil_thresholds', TG_TABLE_SCHEMA || ':' || OLD.rule_id);
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
  PERFORM pg_notify('vigil_thresholds', TG_TABLE_SCHEMA || ':' || NEW.rule_id);
  RETURN NEW;
END $$;
