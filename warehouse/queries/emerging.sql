-- community x category cells far above their earlier weekly mean: at least twice it, and 3 poisson sd above (param: week)
with weekly as (
    select week, community, category, count(*) as demand
    from demand_items
    group by all
),

earlier_weeks as (
    select count(distinct week) as n from demand_items where week < $week
),

baseline as (
    select w.community, w.category, sum(w.demand) / any_value(e.n) as mean_demand
    from weekly as w
    cross join earlier_weeks as e
    where w.week < $week
    group by all
),

scored as (
    select
        w.community,
        w.category,
        w.demand,
        coalesce(b.mean_demand, 0) as baseline
    from weekly as w
    left join baseline as b using (community, category)
    where w.week = $week
)

select
    community,
    category,
    demand,
    round(baseline, 1) as baseline,
    round(demand / greatest(baseline, 1), 2) as ratio,
    round((demand - baseline) / sqrt(greatest(baseline, 1)), 1) as z
from scored
where (select n from earlier_weeks) > 0
  and demand >= 5
  and demand >= 2 * greatest(baseline, 1)
  and (demand - baseline) / sqrt(greatest(baseline, 1)) >= 3
order by z desc, demand desc, community, category
