-- the places a demand names (estate, road, building, institution, landmark, community), and
-- the one that best identifies it: what hot-issue sensing compares
alter table demand_items add column if not exists place varchar;
alter table demand_items add column if not exists places varchar;   -- json list of models.places.Place
