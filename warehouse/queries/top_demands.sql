-- demand items per category over all weeks, with matched and unmet totals
select category, sum(demand) as demand, sum(matched) as matched, sum(unmet) as unmet
from gap_weekly
group by category
order by demand desc, category
