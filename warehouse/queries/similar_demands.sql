-- demand items most similar to item $item_id by embedding (cosine), best first: $limit rows
with probe as (
    select item_id, embedding from demand_items where item_id = $item_id
),
scored as (
    select d.item_id, d.week, d.community, d.category, d.text,
           array_cosine_similarity(d.embedding, p.embedding) as similarity
    from demand_items as d, probe as p
    where d.item_id <> p.item_id and d.embedding is not null
)
select item_id, week, community, category, round(similarity, 4) as similarity, text
from scored
where similarity is not null
order by similarity desc, item_id
limit $limit::integer
