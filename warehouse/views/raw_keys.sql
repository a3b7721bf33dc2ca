-- the natural key of every raw row of every channel (the loader keeps each unique, without a
-- primary key: checks/duplicate_keys.sql proves it)
create or replace view raw_keys as
{%- for c in channels %}
{% if not loop.first %}union all
{% endif %}select '{{ c.raw_table }}' as tbl, {{ c.key_column }} as k from {{ c.raw_table }}
{%- endfor %}
