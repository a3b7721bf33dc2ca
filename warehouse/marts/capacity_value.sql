-- service x week: what one more unit of capacity would save in the week's matching objective
-- (the unmet cost of the item it would serve, less that match's cost), ranked within the week
-- by that value, then by the unmet items it could take (waiting); helps_* name the community x
-- category it would serve first. 0: the service has places left, or no one waiting can use it.
-- snapshot: table order by week, rank
create or replace view capacity_value as
select
    v.week,
    row_number() over (partition by v.week order by v.value desc, v.waiting desc, v.service_id) as rank,
    s.provider_id,
    p.name as provider_name,
    v.service_id,
    s.name as service_name,
    s.unit,
    u.capacity,
    u.matched,
    u.utilization,
    v.value as value_per_unit,
    v.waiting,
    v.community as helps_community,
    v.category as helps_category
from capacity_values as v
join services as s using (service_id)
join providers as p using (provider_id)
left join capacity_use as u using (service_id, week)
