-- the contacts file (warehouse/contacts): residents' contact fields, kept for call-backs only,
-- and the log of every read of them. nothing analytical attaches this file.
create table if not exists contacts (
    record_id     varchar not null,     -- feedback_id of the record (channel:key)
    field         varchar not null,     -- caller_phone | openid | ...
    value         varchar not null,     -- one row per record and field (checks/duplicate_keys.sql)
    loaded_at     timestamp not null
);

-- one row per read: who, when, which records and why; never the values
create table if not exists audit_log (
    read_at       timestamp not null,
    os_user       varchar not null,
    command       varchar not null,     -- record | week_service | export
    selector      varchar not null,     -- the records asked for, as given
    reason        varchar not null,
    records       varchar[] not null,   -- the record ids whose contacts were shown
    fields        integer not null      -- how many values were shown
);
