-- Durable timers, one per kind and subject, found by their due time; optimistic versions of
-- applications; statutory deadlines, one row per application and step, open until closed.
CREATE TABLE timers (
  kind     TEXT NOT NULL,
  subject  TEXT NOT NULL,
  due_ms   BIGINT NOT NULL,
  payload  TEXT NOT NULL,
  PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_by_due ON timers (due_ms);
ALTER TABLE timers ADD COLUMN claimed_until_ms BIGINT;
ALTER TABLE applications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE TABLE deadlines (
  application_id TEXT NOT NULL,
  step           TEXT NOT NULL,
  responsible    TEXT NOT NULL,
  basis          TEXT NOT NULL,
  started_ms     BIGINT NOT NULL,
  due_ms         BIGINT NOT NULL,
  warned_ms      BIGINT,
  breached_ms    BIGINT,
  closed_ms      BIGINT,
  PRIMARY KEY (application_id, step)
);
CREATE INDEX deadlines_open ON deadlines (due_ms) WHERE closed_ms IS NULL;
CREATE UNIQUE INDEX applications_live ON applications (iin, quota_year)
  WHERE stage NOT IN ('refused_automatic', 'refused_career_center', 'refused_recognition_center');
