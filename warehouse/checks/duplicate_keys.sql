-- keys that occur more than once in tables the loader keeps unique without a primary key.
-- the contacts, in a file of their own, have their check in contacts/checks/duplicate_keys.sql
select tbl, k, count(*) as n
from raw_keys
group by all
having count(*) > 1
