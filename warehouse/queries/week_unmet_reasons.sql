-- unmet demand items of one week by reason and category (param: week)
select reason, category, count(*) as items
from matches
where status = 'unmet' and week = $week
group by all
order by items desc, reason, category
