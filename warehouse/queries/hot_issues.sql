-- the hottest issues of one week: live, at least two messages, by heat at the week's end, with their place, trend (items per week up to the week) and two masked examples (param: week)
-- ranking first, counting after: the 200 hottest live issues that may have two messages by
-- the week (two that week, or two by now) are counted exactly, and the 20 hottest of those
-- with two messages by the week are returned; only the top of the list is ever aggregated,
-- and the examples come from issue_texts (a table in the snapshot)
with candidates as (
    select w.issue_id, w.heat, w.status, w.residents, w.likes
    from issue_weeks as w
    join issues as i using (issue_id)
    where w.week = $week and w.status <> 'dormant' and (w.messages >= 2 or i.messages >= 2)
    order by w.heat desc, w.issue_id
    limit 200
),

upto as (
    select issue_id, list(items order by week) as trend, sum(items) as items,
           sum(messages) as messages
    from issue_weeks
    where week <= $week and issue_id in (select issue_id from candidates)
    group by issue_id
),

top as (
    select c.*, u.items, u.messages, u.trend
    from candidates as c
    join upto as u using (issue_id)
    where u.messages >= 2
    order by c.heat desc, c.issue_id
    limit 20
),

examples as (
    select issue_id, examples
    from issue_texts
    where issue_id in (select issue_id from top)
)

select i.issue_id, i.title, i.place, t.items, t.messages, t.residents, t.likes,
       round(t.heat, 2) as heat, t.trend, t.status, i.communities, i.categories, e.examples
from top as t
join issues as i using (issue_id)
left join examples as e using (issue_id)
order by t.heat desc, i.issue_id
