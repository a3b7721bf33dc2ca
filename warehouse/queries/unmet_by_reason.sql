-- unmet demand of one week by community, category and reason, with the items of a priority class (param: week)
select community, category, reason, items, priority_items, unmet_cost
from unmet_reasons
where week = $week
order by items desc, community, category, reason
