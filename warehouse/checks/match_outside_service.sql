-- matched items whose service does not serve their category or community that week
select m.item_id, m.week, m.service_id
from matches as m
where m.status = 'matched'
  and (not exists (select 1 from service_categories as c
                   where c.service_id = m.service_id and c.category = m.category)
       or not exists (select 1 from service_areas as a
                      where a.service_id = m.service_id and a.community = m.community)
       or not exists (select 1 from capacity as cap
                      where cap.service_id = m.service_id and cap.week = m.week))
