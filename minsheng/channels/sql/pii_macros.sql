-- scalar macros for masking personal data in sql (validate_hotline.sql), on the validating
-- connection. they mirror minsheng/pii.py (_classify_digits, is_valid_id_number, luhn_ok) for
-- the numbers that sql masks itself; tests/test_pii_sql.py proves the texts come out the same.

-- gb 11643: 18 characters, 17 digits not starting with 0, and the check character. (each
-- macro guards its steps with case: duckdb evaluates both sides of an and in a select list)
create or replace temp macro pii_id_valid(v) as
    case
        when regexp_full_match(v, '[1-9][0-9]{16}.')
            then substr('10X98765432', (1 + list_sum(list_transform(range(17),
                     lambda i: v[i + 1]::int * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11)::bigint, 1)
                 = upper(v[18])
        else false
    end;

-- luhn over a string of ascii digits
create or replace temp macro pii_luhn_ok(d) as
    list_sum(list_transform(range(length(d)), lambda i:
        case
            when i % 2 = 0 then d[length(d) - i]::int
            when d[length(d) - i]::int > 4 then d[length(d) - i]::int * 2 - 9
            else d[length(d) - i]::int * 2
        end)) % 10 = 0;

-- a bank card: 16 to 19 digits that pass luhn
create or replace temp macro pii_is_card(d) as
    case when length(d) between 16 and 19 and regexp_full_match(d, '[0-9]+') then pii_luhn_ok(d) else false end;

-- the digits (and x) of a plain number (digits, spaces, hyphens, a final x), without a +86
-- country code
create or replace temp macro pii_number_digits(raw) as
    list_transform([replace(replace(raw, ' ', ''), '-', '')],
                   lambda d: case when length(d) = 13 and starts_with(d, '86') then d[3:] else d end)[1];

-- the placeholder for a number (raw: as written, d: pii_number_digits(raw)), null to keep it;
-- pii._classify_digits' order, with the 18-character cases first (a date or an amount that
-- looks like a local number is left to python: validate_hotline.sql, $pii_hard_cue)
create or replace temp macro pii_number_placeholder(raw, d) as
    case
        when length(d) = 18
            then case
                when pii_id_valid(d) then '[身份证号]'
                when pii_is_card(d) then '[银行卡号]'
                else '[身份证号]'
            end
        when length(d) = 11 and d[1] = '1' and contains('3456789', d[2]) then '[手机号]'
        when d[1] = '0' and length(d) between 10 and 12 then '[电话]'
        when length(d) in (7, 8) and contains('2345678', trim(raw)[1]) then '[电话]'
        when length(d) = 15 and regexp_full_match(d, '[1-9][0-9]{7}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}')
            then '[身份证号]'
        when pii_is_card(d) then '[银行卡号]'
    end;

-- a plain number run (digit groups split by spaces or hyphens, perhaps a final x) that is not
-- one number as a whole, but may hold one: pii._mask_run then masks the longest stretches of
-- its groups that are numbers, which python does. a number has at least 7 digits (counting
-- an x), and a stretch short of the whole run lacks its first or its last group.
create or replace temp macro pii_run_may_split(piece) as
    (contains(piece, ' ') or contains(piece, '-'))
    and length(replace(replace(piece, ' ', ''), '-', ''))
        - least(length(regexp_extract(piece, '^[0-9]+')), length(regexp_extract(piece, '[0-9]+[Xx]?$'))) >= 7;

-- a piece of text (pii._DIGITS never crosses one; see validate_hotline.sql) as masked, or
-- null when sql cannot mask it exactly. a piece of fewer than 7 characters, or one that does
-- not start with a letter, digit or +, holds no match. a plain number (digit groups split by
-- spaces or hyphens, perhaps a final x) of 7 to 24 characters is one match as a whole: masked
-- if it is one number, left to python if a part of it may be (pii_run_may_split). one with
-- letters, a + or more characters is left to python, if it holds a digit.
-- (the one-element lists bind the digits and the placeholder once: a macro argument is
-- re-evaluated at each use)
create or replace temp macro pii_mask_run(piece) as
    case
        when length(piece) < 7 then piece
        when not (ord(piece) = 43 or ord(piece) between 48 and 57
                  or ord(piece) between 65 and 90 or ord(piece) between 97 and 122) then piece
        when not regexp_matches(piece, '[0-9]') then piece
        when length(rtrim(piece, 'Xx')) > 24 then null
        when not regexp_full_match(piece, '[0-9]+(?:[ -]+[0-9]+)*[Xx]?') then null
        when length(rtrim(piece, 'Xx')) >= 7
            then list_transform([pii_number_digits(piece)], lambda d:
                     list_transform([pii_number_placeholder(piece, d)], lambda p:
                         case
                             when p is not null then p
                             when pii_run_may_split(piece) then null
                             else piece
                         end)[1])[1]
        else piece
    end;

-- trim spaces (as trim) without copying a string that has none at either end
create or replace temp macro pii_trim(s) as
    case when starts_with(s, ' ') or ends_with(s, ' ') then trim(s) else s end;
