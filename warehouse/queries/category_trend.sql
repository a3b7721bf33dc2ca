-- demand items per week and category over the last $weeks weeks with data up to $week (params: week, weeks)
with span as (
    select distinct week
    from demand_items
    where week <= $week
    order by week desc
    limit $weeks::integer
)

select d.week, d.category, count(*) as demand
from demand_items as d
join span using (week)
group by all
order by d.week, demand desc, d.category
