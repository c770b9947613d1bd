-- The domain's state: applications, the regions' quota, the unemployment register.
CREATE TABLE applications (
  application_id TEXT PRIMARY KEY,
  iin            TEXT NOT NULL,
  quota_year     INTEGER NOT NULL,
  region         TEXT NOT NULL,
  stage          TEXT NOT NULL,
  voucher_id     TEXT NOT NULL,
  act_number     TEXT NOT NULL,
  state          TEXT NOT NULL
);
CREATE INDEX applications_by_person ON applications (iin, quota_year);
CREATE UNIQUE INDEX applications_by_voucher ON applications (voucher_id) WHERE voucher_id <> '';
CREATE UNIQUE INDEX applications_by_act ON applications (act_number) WHERE act_number <> '';
CREATE TABLE quota (
  region    TEXT NOT NULL,
  year      INTEGER NOT NULL,
  allocated BIGINT NOT NULL CHECK (allocated >= 0),
  reserved  BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (region, year),
  CONSTRAINT quota_within_allocation CHECK (reserved >= 0 AND reserved <= allocated)
);
CREATE TABLE unemployment (
  iin         TEXT PRIMARY KEY,
  registered  INTEGER NOT NULL,
  region      TEXT NOT NULL,
  since       TEXT NOT NULL,
  occurred_at TEXT NOT NULL
);
