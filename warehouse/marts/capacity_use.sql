-- service x week: capacity, the demand items matched to it, and utilisation; the base of
-- provider_utilization and capacity_value
-- snapshot: table order by week, service_id
create or replace view capacity_use as
with used as (
    select service_id, week, count(*) as matched
    from matches
    where status = 'matched'
    group by all
)

select
    cap.service_id,
    cap.week,
    cap.capacity,
    coalesce(used.matched, 0) as matched,
    case when cap.capacity = 0 then null
         else round(coalesce(used.matched, 0) / cap.capacity, 4) end as utilization
from capacity as cap
left join used using (service_id, week)
