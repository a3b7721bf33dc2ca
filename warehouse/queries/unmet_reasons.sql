-- unmet demand items by week and reason
select week, reason, count(*) as items
from matches
where status = 'unmet'
group by all
order by week, items desc, reason
