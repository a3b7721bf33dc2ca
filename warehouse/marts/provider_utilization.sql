-- service x week: capacity, matched demand items, utilisation
create or replace view provider_utilization as
with used as (
    select service_id, week, count(*) as matched
    from matches
    where status = 'matched'
    group by all
)

select
    s.provider_id,
    p.name as provider_name,
    p.kind as provider_kind,
    s.service_id,
    s.name as service_name,
    cap.week,
    cap.capacity,
    coalesce(used.matched, 0) as matched,
    case when cap.capacity = 0 then null
         else round(coalesce(used.matched, 0) / cap.capacity, 4) end as utilization
from capacity as cap
join services as s using (service_id)
join providers as p using (provider_id)
left join used using (service_id, week)
where cap.week in (select distinct week from demand_items)
