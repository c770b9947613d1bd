-- Every input once (its key, what became of it) and the messages it causes, written in its
-- transaction and sent until the broker confirms them.
CREATE TABLE inbox (
  input_key      TEXT PRIMARY KEY,
  source         TEXT NOT NULL,
  outcome        TEXT NOT NULL CHECK (outcome IN ('processed', 'rejected')),
  reason         TEXT,
  detail         TEXT,
  document_type  TEXT,
  body_sha256    TEXT NOT NULL,
  received_at    TEXT NOT NULL
);
CREATE TABLE outbox (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_key    TEXT NOT NULL UNIQUE,
  input_key      TEXT NOT NULL REFERENCES inbox (input_key),
  exchange_name  TEXT NOT NULL,
  routing_key    TEXT NOT NULL,
  properties     TEXT NOT NULL,
  body           BYTEA NOT NULL,
  created_at     TEXT NOT NULL,
  sent_at        TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
