-- The quota is the oblast's (audit point 3): rows kept by a district or city KATO are merged
-- into their oblast's, allocations and reservations added up; a period total without a
-- breakdown is shared by its years (audit point 4); one act may cover several persons (audit
-- point 12).
CREATE TEMP TABLE quota_by_oblast AS
  SELECT substr(region, 1, 2) || '0000000' AS region, year, sum(allocated) AS allocated,
         sum(reserved) AS reserved
  FROM quota GROUP BY substr(region, 1, 2), year;
DELETE FROM quota;
INSERT INTO quota (region, year, allocated, reserved)
  SELECT region, year, allocated, reserved FROM quota_by_oblast;
DROP TABLE quota_by_oblast;
ALTER TABLE quota ADD COLUMN pool_start INTEGER;
ALTER TABLE quota ADD COLUMN pool_end INTEGER;
DROP INDEX applications_by_act;
CREATE INDEX applications_by_act ON applications (act_number) WHERE act_number <> '';
