-- demand items per ISO week with the first and last time received: what the report's default week and thin-week note read
select week, count(*) as items, min(received_at) as first_received, max(received_at) as last_received
from demand_items
group by week
order by week
