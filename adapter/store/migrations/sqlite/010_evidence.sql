-- The evidence archive (issue 18): every signed message kept exactly as received or sent, with
-- the signer, the certificates as presented and the revocation facts it was judged on, written
-- in the transaction of the input it belongs to. One hash chain a store: each record holds the
-- hash of the one before (evidence_head: the last, updated in the same transaction), so that a
-- record altered, removed or moved is found by `evidence verify`.
CREATE TABLE evidence (
  seq             INTEGER PRIMARY KEY,
  evidence_id     TEXT NOT NULL UNIQUE,
  day             TEXT NOT NULL,
  direction       TEXT NOT NULL CHECK (direction IN ('received', 'sent')),
  outcome         TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'sent')),
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
CREATE INDEX evidence_by_message ON evidence (message_id);
CREATE INDEX evidence_by_application ON evidence (application_id);
CREATE INDEX evidence_by_day ON evidence (day, seq);
CREATE TABLE evidence_head (
  one            INTEGER PRIMARY KEY CHECK (one = 1),
  seq            INTEGER NOT NULL,
  record_sha256  TEXT NOT NULL
);
INSERT INTO evidence_head (one, seq, record_sha256)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
