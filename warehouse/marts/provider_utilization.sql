-- service x week: capacity, matched demand items, utilisation
-- snapshot: table order by week, service_id
create or replace view provider_utilization as
select
    s.provider_id,
    p.name as provider_name,
    p.kind as provider_kind,
    s.service_id,
    s.name as service_name,
    u.week,
    u.capacity,
    u.matched,
    u.utilization
from capacity_use as u
join services as s using (service_id)
join providers as p using (provider_id)
where u.week in (select distinct week from demand_items)
