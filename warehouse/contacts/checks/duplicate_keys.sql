-- contacts kept twice: one row per record and field (a superseded record's contact is
-- replaced, not added)
select record_id, field, count(*) as n
from contacts
group by all
having count(*) > 1
