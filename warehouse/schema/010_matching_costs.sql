-- matching records its cost components and priority; the registry records where a service
-- is delivered from, its schedule, and which dated snapshot each week's capacity comes from
alter table matches add column fit_cost double;
alter table matches add column travel_cost double;
alter table matches add column unmet_cost double;
alter table matches add column priority varchar;
alter table matches add column weight double;
alter table services add column location varchar;
alter table services add column schedule varchar;
alter table capacity add column valid_from varchar;
