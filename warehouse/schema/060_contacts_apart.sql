-- contacts live in a file of their own (warehouse/contacts): the analytical warehouse, and so
-- its snapshot, keeps no personal data and no pii schema. warehouse.resource.migrate copies
-- any rows still here into the contacts file before this runs.
drop schema if exists pii cascade;
