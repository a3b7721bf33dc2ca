-- one community's year: demand, capacity, matched and unmet per week and category, the weeks of one ISO year (params: community, year)
select week, category, demand, round(capacity, 1) as capacity, matched, unmet, unmet_share
from gap_weekly
where community = $community
  and week >= $year || '-W01' and week <= $year || '-W53'
  and (demand > 0 or capacity > 0)
order by week, unmet desc, category
