-- personal data kept for call-backs only. nothing analytical reads this schema, and
-- `minsheng query` refuses it.
create schema if not exists pii;

create table if not exists pii.contacts (
    record_id     varchar not null,     -- feedback_id of the record
    field         varchar not null,     -- caller_phone | ...
    value         varchar not null      -- one row per record and field (checks/duplicate_keys.sql)
);
