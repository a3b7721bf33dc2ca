-- services given more demand items than their weekly capacity
select service_id, week, capacity, matched
from provider_utilization
where matched > capacity
