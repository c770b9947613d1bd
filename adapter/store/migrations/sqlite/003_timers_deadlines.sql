-- Durable timers, one per kind and subject, found by their due time; optimistic versions of
-- applications; statutory deadlines, one row per application and step, open until closed.
CREATE TABLE timers (
  kind     TEXT NOT NULL,
  subject  TEXT NOT NULL,
  due_ms   INTEGER NOT NULL,
  payload  TEXT NOT NULL,
  PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_by_due ON timers (due_ms);
ALTER TABLE timers ADD COLUMN claimed_until_ms INTEGER;
ALTER TABLE applications ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE deadlines (
  application_id TEXT NOT NULL,
  step           TEXT NOT NULL,
  responsible    TEXT NOT NULL,
  basis          TEXT NOT NULL,
  started_ms     INTEGER NOT NULL,
  due_ms         INTEGER NOT NULL,
  warned_ms      INTEGER,
  breached_ms    INTEGER,
  closed_ms      INTEGER,
  PRIMARY KEY (application_id, step)
);
CREATE INDEX deadlines_open ON deadlines (due_ms) WHERE closed_ms IS NULL;
-- Art. 3: one application a person and year that is not refused (in progress or with a voucher),
-- whatever instance decides it; a person may have any number of refused ones.
CREATE UNIQUE INDEX applications_live ON applications (iin, quota_year)
  WHERE stage NOT IN ('refused_automatic', 'refused_career_center', 'refused_recognition_center');
