-- pairs of demand items of week $week whose embeddings are near-identical (cosine >= $threshold)
with items as (
    select item_id, community, category, text, embedding
    from demand_items
    where week = $week and embedding is not null
),
pairs as (
    select a.item_id as item_a, b.item_id as item_b,
           a.community as community_a, b.community as community_b,
           a.category as category_a, b.category as category_b,
           array_cosine_similarity(a.embedding, b.embedding) as similarity,
           a.text as text_a, b.text as text_b
    from items as a
    join items as b on a.item_id < b.item_id
)
select item_a, item_b, community_a, community_b, category_a, category_b,
       round(similarity, 4) as similarity, text_a, text_b
from pairs
where similarity >= $threshold::double
order by similarity desc, item_a, item_b
