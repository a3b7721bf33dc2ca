-- analytical text that still looks like a mobile number or an 18-digit id number
with texts as (
    select 'feedback' as tbl, feedback_id as id, text from feedback
    union all
    select 'demand_items', item_id, text from demand_items
    union all
    select 'quarantine', quarantine_id, raw_payload from quarantine
)

select tbl, id
from texts
where regexp_matches(text, '(^|[^0-9])1[3-9][0-9]{9}([^0-9]|$)')
   or regexp_matches(text, '(^|[^0-9])[1-9][0-9]{16}[0-9Xx]([^0-9]|$)')
