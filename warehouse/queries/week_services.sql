-- services with capacity in one week, for a what-if: provider, service, unit, capacity, matched (param: week)
select s.service_id, p.name as provider_name, s.name as service_name, s.unit, c.capacity,
       coalesce(u.matched, 0) as matched
from capacity as c
join services as s using (service_id)
join providers as p using (provider_id)
left join capacity_use as u using (service_id, week)
where c.week = $week
order by p.name, s.name, s.service_id
