-- where one more place or volunteer-hour helps most in one week: services by the value of one more unit (param: week)
select rank, provider_name, service_name, unit, capacity, matched, utilization, value_per_unit,
       waiting, helps_community, helps_category
from capacity_value
where week = $week and value_per_unit > 0
order by rank
