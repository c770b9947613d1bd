-- Every read of a person's applications (SqlStore::applications_of, Art. 3's checks) goes
-- through applications_not_refused since migration 8; applications_by_person was read by
-- nothing and cost a write at a random place of its own index for every application stored
-- (issue 17: the pages a commit writes set the event loop's cost per document).
DROP INDEX applications_by_person;
