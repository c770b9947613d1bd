-- An outbox row's body in a table of its own (issue 17), as in SQLite, where marking a row
-- sent rewrote its whole body; the schema stays one for both dialects. The body keeps the
-- row's id.
CREATE TABLE outbox_bodies (
  id    BIGINT PRIMARY KEY REFERENCES outbox (id),
  body  BYTEA NOT NULL
);
INSERT INTO outbox_bodies (id, body) SELECT id, body FROM outbox;
ALTER TABLE outbox DROP COLUMN body;
