-- week x issue: the issue's items and messages that week, its heat and status at the week's
-- end, with its title, place, communities and category mix
-- snapshot: table order by week, issue_id
create or replace view hot_issues_weekly as
select w.week, w.issue_id, i.title, i.place, i.communities, i.categories, w.items, w.messages,
       w.residents, w.likes, w.heat, w.status
from issue_weeks as w
join issues as i using (issue_id)
