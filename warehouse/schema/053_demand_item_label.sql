-- a district's model may predict labels of its own (its departments): the item keeps the
-- model's label, and `category` is the service category it maps to (taxonomy label_map)
alter table demand_items add column if not exists label varchar;
update demand_items set label = category where label is null;
