-- The daily seal of the evidence archive (issue 18): a record of its own in the chain, the
-- signed statement of one local day's records (their count, the last one and its hash).
-- One statement, one scan of the table under its lock.
ALTER TABLE evidence
  DROP CONSTRAINT evidence_direction_check,
  DROP CONSTRAINT evidence_outcome_check,
  ADD CONSTRAINT evidence_direction_check CHECK (direction IN ('received', 'sent', 'seal')),
  ADD CONSTRAINT evidence_outcome_check
    CHECK (outcome IN ('accepted', 'rejected', 'sent', 'sealed'));
-- The seals by day: the last day sealed is found without reading the records.
CREATE INDEX evidence_seals_by_day ON evidence (day) WHERE direction = 'seal';
