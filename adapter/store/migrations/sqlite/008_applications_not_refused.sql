-- Art. 3's checks read a person's applications of a year that were not refused: by an index of
-- those alone, so a person's refused applications (as many as they sent) are not walked again
-- for each new one. The condition is the one of SqlStore::applications_of, word for word: only
-- then does the database know the index answers that query.
CREATE INDEX applications_not_refused ON applications (iin, quota_year)
  WHERE stage NOT IN ('refused_automatic', 'refused_career_center', 'refused_recognition_center');
