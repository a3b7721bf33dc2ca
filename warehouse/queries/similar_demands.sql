-- demand items most like item $item_id: those of its issue and of the issues at its place, by embedding cosine, best first: $limit rows
with probe as (
    select d.item_id, d.embedding, d.place, m.issue_id
    from demand_items as d
    left join issue_membership as m using (item_id)
    where d.item_id = $item_id
),

near_issues as (
    select issue_id from probe
    union
    select i.issue_id from issues as i, probe as p where p.place is not null and i.place = p.place
),

candidates as (
    select d.item_id, d.week, d.community, d.category, d.text, d.embedding
    from issue_membership as m
    join demand_items as d using (item_id)
    where m.issue_id in (select issue_id from near_issues)
)

select c.item_id, c.week, c.community, c.category,
       round(array_cosine_similarity(c.embedding, p.embedding), 4) as similarity, c.text
from candidates as c, probe as p
where c.item_id <> p.item_id and c.embedding is not null
order by similarity desc nulls last, c.item_id
limit $limit::integer
