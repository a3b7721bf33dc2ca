-- the issue of every demand item: as assigned, then the planners' decisions over it (a split
-- moves items to a new issue, a merge sends a whole issue into another)
create or replace view issue_membership as
with splits as (
    select unnest(item_ids) as item_id, into_issue, decided_at
    from issue_decisions
    where kind = 'split'
),

latest_split as (
    select item_id, arg_max(into_issue, decided_at) as issue_id
    from splits
    group by item_id
),

assigned as (
    select i.item_id, coalesce(s.issue_id, i.issue_id) as issue_id
    from issue_items as i
    left join latest_split as s using (item_id)
)

select a.item_id, coalesce(m.into_issue, a.issue_id) as issue_id
from assigned as a
left join issue_decisions as m on m.kind = 'merge' and m.issue_id = a.issue_id
