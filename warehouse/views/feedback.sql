-- every channel normalised to one row per resident utterance: a view over the raw tables of
-- the channel registry (minsheng/channels), so that each text is stored once. a row of a
-- channel whose text is optional (a survey without an open answer) is no feedback
create or replace view feedback as
with normalised as (
{%- for c in channels %}
    {% if not loop.first %}union all
    {% endif %}select '{{ c.name }}' as channel, {{ c.key_column }} as record_key, received_at, community,
           {{ c.text_column }} as text, content_hash, source_file, source_pos, ingested_at
    from {{ c.raw_table }}
    {%- if c.text_optional %}
    where {{ c.text_column }} is not null
    {%- endif %}
{%- endfor %}
)

select
    channel || ':' || record_key as feedback_id,
    channel,
    received_at,
    strftime(received_at, '%G-W%V') as week,
    community,
    text,
    content_hash,
    source_file,
    source_pos,
    ingested_at
from normalised
