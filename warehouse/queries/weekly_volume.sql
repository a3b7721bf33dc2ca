-- feedback records per week and channel
select week, channel, count(*) as records
from feedback
group by all
order by week, channel
