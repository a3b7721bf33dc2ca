-- unmet demand by community and category for one week, largest gap first (param: week)
select community, category, demand, round(capacity, 1) as capacity, matched, unmet, unmet_share
from gap_weekly
where week = $week and demand > 0
order by unmet desc, demand desc, community, category
