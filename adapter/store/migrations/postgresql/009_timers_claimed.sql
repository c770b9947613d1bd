-- The next timer due is read after every commit that wrote one. Without this index that read
-- walked every pending timer (one or more per application in progress): the timers claimed by
-- an instance are found by it, and the unclaimed ones by timers_by_due, first one first. The
-- condition is the one of SqlStore::next_timer_due, word for word.
CREATE INDEX timers_claimed ON timers (claimed_until_ms) WHERE claimed_until_ms IS NOT NULL;
