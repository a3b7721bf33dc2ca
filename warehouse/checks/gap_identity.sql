-- gap cells where demand is not matched + unmet
select week, community, category, demand, matched, unmet
from gap_weekly
where demand <> matched + unmet
