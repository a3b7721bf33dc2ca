-- what tells residents apart and how many agreed, per feedback record, from the channels that
-- have it (a user pseudonym, likes): what hot-issue heat counts. built from the registry
create or replace view feedback_signals as
{%- for c in channels if c.resident_column or c.likes_column %}
{% if not loop.first %}union all
{% endif %}select '{{ c.name }}:' || {{ c.key_column }} as feedback_id,
       {{ c.resident_column or 'null' }}::varchar as resident, coalesce({{ c.likes_column or '0' }}, 0)::bigint as likes
from {{ c.raw_table }}
{%- else %}
select null::varchar as feedback_id, null::varchar as resident, 0::bigint as likes where false
{%- endfor %}
