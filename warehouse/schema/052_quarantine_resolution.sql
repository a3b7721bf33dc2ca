-- a quarantined row that loads after a fix (a mapping, a district's gazetteer, a corrected
-- export) is kept, marked resolved, with the run that resolved it; reports count open rows
alter table quarantine add column resolved_at timestamp;
alter table quarantine add column resolved_by varchar;
