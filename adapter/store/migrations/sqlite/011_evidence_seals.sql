-- The daily seal of the evidence archive (issue 18): a record of its own in the chain, the
-- signed statement of one local day's records (their count, the last one and its hash). SQLite
-- cannot change a CHECK in place: the table is rebuilt with the same rows.
CREATE TABLE evidence_sealed (
  seq             INTEGER PRIMARY KEY,
  evidence_id     TEXT NOT NULL UNIQUE,
  day             TEXT NOT NULL,
  direction       TEXT NOT NULL CHECK (direction IN ('received', 'sent', 'seal')),
  outcome         TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'sent', 'sealed')),
  reason          TEXT NOT NULL,
  input_key       TEXT NOT NULL,
  message_id      TEXT NOT NULL,
  document_type   TEXT NOT NULL,
  application_id  TEXT NOT NULL,
  signer          TEXT NOT NULL,
  chain           TEXT NOT NULL,
  revocation      TEXT NOT NULL,
  verified_ms     INTEGER NOT NULL,
  caused          TEXT NOT NULL,
  body            BLOB NOT NULL,
  body_sha256     TEXT NOT NULL,
  prev_sha256     TEXT NOT NULL,
  record_sha256   TEXT NOT NULL
);
INSERT INTO evidence_sealed SELECT * FROM evidence;
DROP TABLE evidence;
ALTER TABLE evidence_sealed RENAME TO evidence;
CREATE INDEX evidence_by_message ON evidence (message_id);
CREATE INDEX evidence_by_application ON evidence (application_id);
CREATE INDEX evidence_by_day ON evidence (day, seq);
-- The seals by day: the last day sealed is found without reading the records.
CREATE INDEX evidence_seals_by_day ON evidence (day) WHERE direction = 'seal';
