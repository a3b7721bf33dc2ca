-- open quarantined rows by channel and reason (rows a later load resolved are not counted)
select channel, reason, count(*) as rows
from quarantine
where resolved_at is null
group by all
order by channel, rows desc
