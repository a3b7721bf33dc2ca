-- open review-queue items, least confident first (label them with `minsheng model correct`)
select item_id, predicted, round(confidence, 3) as confidence, top3, model_version, text
from review_queue
where status = 'open'
order by confidence, item_id
