-- a district need not know its communities' demographics; and records that cannot be placed
-- in a community are counted under the district-wide community 'unknown'
alter table communities alter column registered drop not null;
alter table communities alter column nongzhuanfei drop not null;
alter table communities alter column elderly drop not null;
alter table communities alter column floating drop not null;
