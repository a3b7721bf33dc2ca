-- matches whose cost is not the sum of its recorded components
select item_id, week, status, cost
from matches
where cost is null
   or (status = 'matched' and (fit_cost is null or travel_cost is null
                               or abs(cost - fit_cost - travel_cost) > 0.005))
   or (status = 'unmet' and (unmet_cost is null or abs(cost - unmet_cost) > 0.005))
