-- The audit of replays and purges of dead letters.
CREATE TABLE audit (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  dead_letter TEXT NOT NULL,
  queue       TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL
);
