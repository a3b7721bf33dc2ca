-- a platform message's likes (点赞数): they add to the heat of the issue it belongs to
alter table raw_platform add column if not exists likes bigint;
