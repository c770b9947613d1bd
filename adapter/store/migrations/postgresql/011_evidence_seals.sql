-- The daily seal of the evidence archive (issue 18): a record of its own in the chain, the
-- signed statement of one local day's records (their count, the last one and its hash).
ALTER TABLE evidence DROP CONSTRAINT evidence_direction_check;
ALTER TABLE evidence DROP CONSTRAINT evidence_outcome_check;
ALTER TABLE evidence ADD CONSTRAINT evidence_direction_check
  CHECK (direction IN ('received', 'sent', 'seal'));
ALTER TABLE evidence ADD CONSTRAINT evidence_outcome_check
  CHECK (outcome IN ('accepted', 'rejected', 'sent', 'sealed'));
