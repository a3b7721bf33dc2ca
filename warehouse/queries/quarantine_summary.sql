-- quarantined rows by channel and reason
select channel, reason, count(*) as rows
from quarantine
group by all
order by channel, rows desc
