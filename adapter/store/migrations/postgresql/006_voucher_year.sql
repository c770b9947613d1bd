-- Art. 3 as the audit reads it: another application in progress is no ground; one voucher a
-- person and calendar year of issue is the invariant, whoever decides.
DROP INDEX applications_live;
ALTER TABLE applications ADD COLUMN voucher_year INTEGER;
UPDATE applications SET voucher_year = substr(state::json ->> 'issuedOn', 1, 4)::INTEGER
  WHERE voucher_id <> '' AND state::json ->> 'issuedOn' IS NOT NULL;
CREATE UNIQUE INDEX applications_voucher_year ON applications (iin, voucher_year)
  WHERE voucher_year IS NOT NULL;
