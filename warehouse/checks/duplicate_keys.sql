-- keys that occur more than once in tables the loader keeps unique without a primary key
with keys as (
    select 'raw_hotline' as tbl, order_id as k from raw_hotline
    union all select 'raw_platform', message_id from raw_platform
    union all select 'raw_meeting', item_key from raw_meeting
    union all select 'raw_survey', response_id from raw_survey
    union all select 'pii.contacts', record_id || '/' || field from pii.contacts
)

select tbl, k, count(*) as n
from keys
group by all
having count(*) > 1
