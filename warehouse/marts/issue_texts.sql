-- issue: the masked texts of its first two demand items (by time, then id), the examples of the
-- hot-issue list. The list shows only issues with two messages by the week asked about, so
-- their first two items are also the first two by that week: one row per issue serves every week.
-- snapshot: table order by issue_id
create or replace view issue_texts as
select m.issue_id, list(d.text order by d.received_at, d.item_id)[1:2] as examples
from issue_membership as m
join demand_items as d using (item_id)
group by m.issue_id
