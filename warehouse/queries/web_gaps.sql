-- the workbench's gaps page: community x category cells of one week with demand, optionally of one community and one category (params: week, community, category; '' for every one)
select community, category, demand, round(capacity, 1) as capacity, matched, unmet, unmet_share
from gap_weekly
where week = $week
  and demand > 0
  and ($community = '' or community = $community)
  and ($category = '' or category = $category)
order by unmet desc, demand desc, community, category
