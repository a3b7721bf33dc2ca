-- the matching run of each week: solver, matched and unmet items, objective and its parts
select week, solver, items, matched, unmet, match_cost, unmet_cost, objective, excess_items,
       fairness_margin, groups, seconds
from match_runs
order by week
