-- the loader's ledger: one row per staged part merged into the warehouse, written in the
-- same transaction as the part's rows. a part merged once is never merged again, and a part
-- computed against an older head (base_part) is refused and recomputed
create table if not exists processed_parts (
    part_id       varchar primary key,  -- hash of the part's input and of the head it was computed on
    seq           bigint not null unique,
    mode          varchar not null,     -- batch | stream
    base_part     varchar,              -- the head when the part was computed
    watermark     timestamp,            -- event-time watermark after the part
    feedback      bigint not null,
    items         bigint not null,
    dead_letters  bigint not null,
    too_late      bigint not null,      -- new items whose hourly window had closed (not counted)
    merged_at     timestamp not null
);
