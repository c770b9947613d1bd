-- Outbox rows that can never be published, kept aside: sent_at is when.
ALTER TABLE outbox ADD COLUMN parked_reason TEXT;
CREATE INDEX outbox_parked ON outbox (id) WHERE parked_reason IS NOT NULL;
