-- An outbox row's body in a table of its own (issue 17). Marking a row sent (or set aside)
-- rewrites the row, and SQLite rewrites a row whole: with the body inside, every confirm of a
-- signed notification wrote its 5 KB again (two overflow pages) to the log and, at the
-- checkpoint, to the file. Now the mark rewrites a row of a few dozen bytes; the body is
-- written once. The body keeps the row's id.
CREATE TABLE outbox_bodies (
  id    INTEGER PRIMARY KEY REFERENCES outbox (id),
  body  BLOB NOT NULL
);
INSERT INTO outbox_bodies (id, body) SELECT id, body FROM outbox;
ALTER TABLE outbox DROP COLUMN body;
