-- Purging the evidence archive (issue 18): what `evidence export` wrote and verified of each day
-- (a day is purged only once exported, verified, and unchanged since), and where the chain
-- starts once the records before it are purged (`evidence verify` starts there).
CREATE TABLE evidence_exports (
  day          TEXT PRIMARY KEY,
  records      INTEGER NOT NULL,
  last_seq     INTEGER NOT NULL,
  last_sha256  TEXT NOT NULL,
  file_sha256  TEXT NOT NULL,
  exported_ms  INTEGER NOT NULL
);
CREATE TABLE evidence_purged (
  one            INTEGER PRIMARY KEY CHECK (one = 1),
  seq            INTEGER NOT NULL,
  record_sha256  TEXT NOT NULL
);
INSERT INTO evidence_purged (one, seq, record_sha256)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
