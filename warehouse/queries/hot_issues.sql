-- the hottest issues of one week: live, at least two messages, by heat at the week's end, with their place, trend (items per week up to the week) and two masked examples (param: week)
with week_rows as (
    select w.issue_id, w.heat, w.status, w.residents, w.likes
    from issue_weeks as w
    where w.week = $week and w.status <> 'dormant'
),

counted as (
    select w.*, (select count(distinct d.feedback_id)
                 from issue_membership as m join demand_items as d using (item_id)
                 where m.issue_id = w.issue_id and d.week <= $week) as messages,
           (select count(*)
            from issue_membership as m join demand_items as d using (item_id)
            where m.issue_id = w.issue_id and d.week <= $week) as items
    from week_rows as w
),

trend as (
    select issue_id, list(items order by week) as trend
    from issue_weeks
    where week <= $week and issue_id in (select issue_id from counted)
    group by issue_id
),

examples as (
    select m.issue_id, list(d.text order by d.received_at, d.item_id)[1:2] as examples
    from issue_membership as m
    join demand_items as d using (item_id)
    where m.issue_id in (select issue_id from counted) and d.week <= $week
    group by m.issue_id
)

select i.issue_id, i.title, i.place, c.items, c.messages, c.residents, c.likes,
       round(c.heat, 2) as heat, t.trend, c.status, i.communities, i.categories, e.examples
from counted as c
join issues as i using (issue_id)
left join trend as t using (issue_id)
left join examples as e using (issue_id)
where c.messages >= 2
order by c.heat desc, i.issue_id
limit 20
