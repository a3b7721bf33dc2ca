-- feedback records and demand items per channel in one week (param: week)
with f as (
    select channel, count(*) as records from feedback where week = $week group by channel
),

d as (
    select channel, count(*) as items from demand_items where week = $week group by channel
)

select channel, coalesce(f.records, 0) as records, coalesce(d.items, 0) as demand_items
from f
full outer join d using (channel)
order by channel
