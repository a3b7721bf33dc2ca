-- issues whose title, place or items mention a word, hottest first (param: word)
select i.issue_id, i.title, i.place, i.items, i.messages, i.residents, round(i.heat, 2) as heat,
       i.status, i.first_seen, i.last_seen
from issues as i
where contains(i.title, $word) or contains(coalesce(i.place, ''), $word)
   or i.issue_id in (
       select m.issue_id from issue_membership as m join demand_items as d using (item_id)
       where contains(d.text, $word))
order by i.heat desc, i.issue_id
limit 50
