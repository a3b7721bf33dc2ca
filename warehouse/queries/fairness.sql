-- unmet share per community among the items some service could take, against the district's, and why a community stays above it (param: week)
select community, servable, unmet, unmet_share, district_share, margin, exceeds, why
from match_fairness
where week = $week
order by exceeds desc, unmet_share desc, community
