-- provider utilisation for one week, busiest first (param: week)
select provider_name, service_name, capacity, matched, utilization
from provider_utilization
where week = $week
order by utilization desc nulls last, matched desc, service_name
