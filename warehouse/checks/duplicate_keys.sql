-- keys that occur more than once in tables the loader keeps unique without a primary key
with keys as (
    select tbl, k from raw_keys
    union all
    select 'pii.contacts', record_id || '/' || field from pii.contacts
)

select tbl, k, count(*) as n
from keys
group by all
having count(*) > 1
