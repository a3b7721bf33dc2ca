-- how far the streaming mode has read each inbox file, moved forward in the transaction that
-- merges the part holding what it read
create table if not exists inbox_files (
    path          varchar primary key,  -- relative to the inbox
    channel       varchar not null,
    read_to       bigint not null,      -- bytes consumed (line files) or the size read (documents)
    records       bigint not null,      -- records consumed, header excluded
    fingerprint   varchar not null,     -- first line (line files) or size and mtime (documents)
    part_id       varchar not null,     -- the part that consumed the last slice
    error         varchar,              -- why the file could not be read (it is then skipped)
    updated_at    timestamp not null
);
