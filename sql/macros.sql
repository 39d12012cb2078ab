-- Parsers shared by every layer: one definition of each rule of METHODS.md and DATA_CONTRACT.md.
-- Each returns null when the value cannot be used; the ingest SQL turns nulls of required fields into reasons.
-- Plain expressions (no subqueries) so that they stay vectorised over tens of millions of rows. Each has a fast
-- path for the common clean forms (CASE evaluates a branch only for the rows that reach it) and a slower,
-- general path for the rest.

-- Amounts: 1234,56 | 1.234,56 | 1234.56 | 1,234.56 | -12,50 | 12,50- | 1 234,56 | 100 kr.
-- The right-most of '.'/',' is the decimal mark; a '.' followed by exactly three digits (1.234, 1.234.567) or
-- two or more ',' groups of three (1,234,567) are thousands marks.
-- Each step binds its input once through a one-element list_transform: a macro parameter used n times is
-- otherwise expanded (and evaluated) n times, and nested macros multiply that.
create or replace macro clean_amount_text(raw) as
    regexp_replace(trim(coalesce(raw, '')), '(\s|\x{00A0}|kr\.?$|DKK$)', '', 'gi');

create or replace macro signed_amount_text(text) as
    list_transform([text], lambda s: case when s like '%-' and s not like '-%' then '-' || rtrim(s, '-') else s end)[1];

create or replace macro decimal_amount_text(text) as
    list_transform([text], lambda s: case
        when s like '%,%' and s like '%.%' and strpos(s, ',') > strpos(s, '.') then replace(replace(s, '.', ''), ',', '.')
        when s like '%,%' and s like '%.%' then replace(s, ',', '')
        when regexp_full_match(s, '[+-]?\d{1,3}(,\d{3}){2,}') then replace(s, ',', '')
        when s like '%,%' then replace(s, ',', '.')
        when regexp_full_match(s, '[+-]?\d{1,3}(\.\d{3})+') then replace(s, '.', '')
        else s
    end)[1];

create or replace macro parse_amount_general(raw) as
    list_transform([decimal_amount_text(signed_amount_text(clean_amount_text(raw)))], lambda s:
        case when regexp_full_match(s, '[+-]?(\d+(\.\d*)?|\.\d+)') then try_cast(s as decimal(18, 2)) end)[1];

-- Fast paths for the forms real extracts use (1234.56 | 1234,56 | 1.234,56), the general path for the rest.
create or replace macro parse_amount(raw) as
    case
        when raw is null then null
        when regexp_full_match(raw, '-?\d*\.\d{1,2}') then try_cast(raw as decimal(18, 2))
        when regexp_full_match(raw, '-?\d+(,\d+)?') then try_cast(replace(raw, ',', '.') as decimal(18, 2))
        when regexp_full_match(raw, '-?\d{1,3}(\.\d{3})+(,\d+)?')
            then try_cast(replace(replace(raw, '.', ''), ',', '.') as decimal(18, 2))
        else parse_amount_general(raw)
    end;

-- Quantities (order lines): the same text rules as amounts, three decimals.
create or replace macro parse_quantity(raw) as
    case
        when raw is null then null
        when regexp_full_match(raw, '-?\d+') then try_cast(raw as decimal(18, 3))
        when regexp_full_match(raw, '-?\d+,\d+') then try_cast(replace(raw, ',', '.') as decimal(18, 3))
        when regexp_full_match(raw, '-?\d*\.(\d{1,2}|\d{4,})') then try_cast(raw as decimal(18, 3))
        else try_cast(decimal_amount_text(signed_amount_text(clean_amount_text(raw))) as decimal(18, 3))
    end;

-- Dates: 2021-03-31 | 31-03-2021 | 31.03.2021 | 31/03/2021 | 20210331 | 2021-03-31T10:00:00.
create or replace macro parse_date_general(raw) as
    cast(case
        when regexp_full_match(trim(raw), '\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?') then try_strptime(left(trim(raw), 10), '%Y-%m-%d')
        when regexp_full_match(trim(raw), '\d{1,2}-\d{1,2}-\d{4}') then try_strptime(trim(raw), '%d-%m-%Y')
        when regexp_full_match(trim(raw), '\d{1,2}\.\d{1,2}\.\d{4}') then try_strptime(trim(raw), '%d.%m.%Y')
        when regexp_full_match(trim(raw), '\d{1,2}/\d{1,2}/\d{4}') then try_strptime(trim(raw), '%d/%m/%Y')
        when regexp_full_match(trim(raw), '\d{8}') then try_strptime(trim(raw), '%Y%m%d')
    end as date);

create or replace macro parse_date(raw) as
    case
        when raw is null then null
        when length(raw) = 10 and substr(raw, 5, 1) = '-' and substr(raw, 8, 1) = '-' and regexp_full_match(raw, '\d{4}-\d{2}-\d{2}')
            then cast(try_strptime(raw, '%Y-%m-%d') as date)
        when length(raw) = 10 and substr(raw, 3, 1) = '-' and substr(raw, 6, 1) = '-' and regexp_full_match(raw, '\d{2}-\d{2}-\d{4}')
            then cast(try_strptime(raw, '%d-%m-%Y') as date)
        when length(raw) = 10 and substr(raw, 3, 1) = '.' and substr(raw, 6, 1) = '.' and regexp_full_match(raw, '\d{2}\.\d{2}\.\d{4}')
            then cast(try_strptime(raw, '%d.%m.%Y') as date)
        when length(raw) = 10 and substr(raw, 3, 1) = '/' and substr(raw, 6, 1) = '/' and regexp_full_match(raw, '\d{2}/\d{2}/\d{4}')
            then cast(try_strptime(raw, '%d/%m/%Y') as date)
        else parse_date_general(raw)
    end;

-- DATA_CONTRACT "bad date or amount": the plausible range of a line's date and amount. A row outside it is
-- rejected with its reason by the ingest SQL. These macros are the authority for the bounds: the file
-- expectations of assets/quality/files.py (MIN_DATE, MAX_LINE_AMOUNT_KR, the day of loading) repeat them, and
-- tests/test_row_plausibility.py holds the two equal.
create or replace macro plausible_min_date() as date '2000-01-01';

-- The day of loading, in UTC as the file expectations take it (a local date could run a day ahead of theirs).
create or replace macro load_date() as cast(timezone('UTC', current_timestamp) as date);

create or replace macro max_line_amount_kr() as 1000000000;

-- Why a row's date, amount or currency cannot be used, in words (null when it can): the same for invoice and order
-- rows (sql/ingest/*_rows.sql build them only for rows that fail a cheap test). `name` is the delivered column.
create or replace macro date_reason(name, raw, parsed) as
    case
        when parsed is null
            then name || ' ''' || coalesce(trim(raw), '') || ''' is not a date (e.g. 2021-03-31 or 31-03-2021)'
        when parsed < plausible_min_date()
            then name || ' ''' || trim(raw) || ''' is before ' || plausible_min_date()
                || ', the earliest date accepted: a misread date?'
        when parsed > load_date()
            then name || ' ''' || trim(raw) || ''' is after ''' || load_date()
                || ''', the day the file was loaded: a date in the future cannot be a purchase'
    end;

create or replace macro amount_reason(raw, amount) as
    case
        when amount is null then 'beloeb ''' || coalesce(trim(raw), '') || ''' is not an amount (e.g. 1.234,56)'
        when abs(amount) > max_line_amount_kr()
            then 'beloeb ''' || trim(raw) || ''' is ' || case when amount > 0 then 'over ' else 'under -' end
                || printf('%g', max_line_amount_kr() / 1e9) || ' mia. kr. for one line: a misread amount?'
    end;

-- A line's currency: DKK when none is given (valuta is optional).
create or replace macro parse_currency(raw) as
    case when raw is null or raw = 'DKK' then 'DKK' else upper(coalesce(nullif(trim(raw), ''), 'DKK')) end;

create or replace macro currency_reason(currency) as
    case when currency <> 'DKK'
        then 'currency ' || currency || ': no exchange rate to DKK is known, so the amount cannot be counted' end;

-- Supplier CVR: strip the scheme (DK:CVR, 0184:), a DK prefix, spaces, dashes and dots; exactly 8 digits.
-- Fast paths for 12345678, DK12345678, DK 12345678 and 12 34 56 78 (the forms of real extracts).
create or replace macro parse_cvr(raw) as
    case
        when raw is null then null
        when regexp_full_match(raw, '(?i:DK ?)?\d{8}') then right(raw, 8)
        when regexp_full_match(raw, '\d\d \d\d \d\d \d\d') then replace(raw, ' ', '')
        else nullif(regexp_extract(
            replace(replace(replace(upper(trim(raw)), ' ', ''), '-', ''), '.', ''),
            '^(?:DK:CVR:?|0184:)?(?:DK)?(\d{8})$', 1), '')
    end;

-- Order numbers (METHODS 5): trim, upper-case, no inner white space, leading zeros off an all-digit number;
-- the placeholders below mean "no order number".
create or replace macro compact_order_number(raw) as
    case
        when contains(raw, ' ') or contains(raw, chr(9)) or contains(raw, chr(10)) or contains(raw, chr(13))
            then regexp_replace(upper(trim(raw)), '\s+', '', 'g')
        else upper(coalesce(raw, ''))
    end;

create or replace macro normalise_order_number(raw) as
    case
        when compact_order_number(raw) in ('', 'NA', 'N/A', 'N.A.', '0', '-', 'INGEN', 'NONE', 'NULL') then null
        when regexp_full_match(compact_order_number(raw), '\d+') then nullif(ltrim(compact_order_number(raw), '0'), '')
        else compact_order_number(raw)
    end;

-- Kommunekode: 3 or 4 digits, '159' and '0159' the same municipality.
create or replace macro normalise_kommunekode(raw) as
    case when regexp_full_match(trim(coalesce(raw, '')), '\d{3,4}') then lpad(trim(raw), 4, '0') end;

-- A row's own kommunekode may be empty; when given it must name the delivery folder's municipality (4 digits).
create or replace macro kommunekode_agrees(raw, folder) as
    case
        when raw is null or raw = folder or raw = ltrim(folder, '0') then true
        when trim(raw) = '' then true
        else coalesce(normalise_kommunekode(raw) = folder, false)
    end;

-- Why a row's kommunekode does not agree with its folder, in words (only for rows where it does not).
create or replace macro kommunekode_reason(raw, folder) as
    case
        when normalise_kommunekode(raw) is null
            then 'kommunekode ''' || trim(raw) || ''' is not a 3-4 digit municipality code'
        else 'kommunekode ' || normalise_kommunekode(raw) || ' in the row disagrees with the delivery folder ' || folder
    end;

-- A quarantined CSV record as delivered: its cells joined by the file's delimiter (null for XML rows).
-- One branch per delimiter: array_to_string takes only a constant separator.
create or replace macro raw_record_text(cells, delimiter) as
    case delimiter
        when ';' then array_to_string(list_transform(cells, lambda cell: coalesce(cell, '')), ';')
        when ',' then array_to_string(list_transform(cells, lambda cell: coalesce(cell, '')), ',')
        when chr(9) then array_to_string(list_transform(cells, lambda cell: coalesce(cell, '')), chr(9))
    end;

-- Art (kontoplan): '2.2', '22', '2.2.1', '2,2' -> '2.2'; anything else is kept trimmed (and is not a known art).
create or replace macro normalise_art(raw) as
    case
        when raw is null or trim(raw) = '' then null
        when length(raw) >= 3 and substr(raw, 2, 1) = '.' and substr(raw, 1, 1) between '0' and '9'
            and substr(raw, 3, 1) between '0' and '9' and (length(raw) = 3 or substr(raw, 4, 1) in ('.', ','))
            then left(raw, 3)
        when regexp_full_match(trim(raw), '\d[.,]?\d([.,].*)?')
            then regexp_extract(trim(raw), '^(\d)[.,]?(\d)', 1) || '.' || regexp_extract(trim(raw), '^(\d)[.,]?(\d)', 2)
        else trim(raw)
    end;

-- Document type of a finance row: invoice or credit_note, null when unrecognised.
create or replace macro document_type_word(raw) as
    case lower(raw)
        when 'faktura' then 'invoice' when 'invoice' then 'invoice' when '380' then 'invoice'
        when 'kreditnota' then 'credit_note' when 'creditnote' then 'credit_note' when '381' then 'credit_note'
    end;

create or replace macro normalise_document_type(raw) as
    case
        when document_type_word(raw) is not null then document_type_word(raw)
        else document_type_word(regexp_replace(trim(coalesce(raw, '')), '[\s_\-]', '', 'g'))
    end;

-- UNSPSC: the 8-digit code (a longer code keeps its first 8 digits); null when not a code.
create or replace macro normalise_unspsc(raw) as
    case
        when raw is null then null
        when length(raw) = 8 and regexp_full_match(raw, '\d{8}') then raw
        when regexp_full_match(regexp_replace(trim(raw), '[\s\-.]', '', 'g'), '\d{8,10}')
            then left(regexp_replace(trim(raw), '[\s\-.]', '', 'g'), 8)
    end;

-- Order type: katalog (default), punchout, fritekst or e-ordre; null when unrecognised.
create or replace macro order_type_word(raw) as
    case lower(raw)
        when '' then 'katalog' when 'katalog' then 'katalog' when 'catalogue' then 'katalog' when 'ekatalog' then 'katalog'
        when 'punchout' then 'punchout'
        when 'fritekst' then 'fritekst' when 'freetext' then 'fritekst' when 'fritekstordre' then 'fritekst'
        when 'eordre' then 'e-ordre' when 'e-ordre' then 'e-ordre' when 'eorder' then 'e-ordre'
    end;

create or replace macro normalise_order_type(raw) as
    case
        when order_type_word(coalesce(raw, '')) is not null then order_type_word(coalesce(raw, ''))
        else order_type_word(regexp_replace(trim(coalesce(raw, '')), '[\s_\-]', '', 'g'))
    end;

-- METHODS 2, goods scope of an invoice line: a known art decides (goods when its varekoeb is 'ja'); with no
-- known art, a goods UNSPSC segment (varekoeb 'ja') makes the line goods; else (a services segment, an unknown
-- segment or no UNSPSC) it is unclassified. art_known: the line's art is in reference.kontoplan_arter.
create or replace macro scope_class(art_known, art_varekoeb, segment_varekoeb) as
    case
        when art_known and art_varekoeb = 'ja' then 'goods'
        when art_known then 'not_goods'
        when segment_varekoeb = 'ja' then 'goods'
        else 'unclassified'
    end;

-- METHODS 3, the category of a goods line with no usable UNSPSC segment: its goods art's.
create or replace macro art_category(art) as
    case art
        when '2.2' then 'Fødevarer'
        when '2.3' then 'Brændstof og energi'
        when '2.7' then 'Øvrige varer'
        when '2.9' then 'Øvrige varer'
    end;

-- METHODS 5 ("a CVR in common"): every Danish CVR a supplier party names, its primary one included, sorted and
-- distinct; listed is the party's list (XML) or null (CSV: the primary CVR alone). [] when it names none.
-- The CSV case first, without list functions: 0.06 s instead of 2 s for the 11 M copies of a national year.
create or replace macro party_cvrs(primary_cvr, listed) as
    case
        when listed is null or len(listed) = 0
            then case when primary_cvr is null then cast([] as varchar[]) else [primary_cvr] end
        else list_sort(list_distinct(list_filter(list_prepend(primary_cvr, listed), lambda cvr: cvr is not null)))
    end;

-- True for a unit (a municipality, a content) whose rows are being computed: every unit, except while
-- materialise_incremental (pipelines/warehouse.py) computes again only the units whose deliveries changed, which it
-- lists in the variable `changed_units`. Folded to a constant when the query is planned: no cost on a full build,
-- and a plain filter otherwise. An incremental table says it, with its unit's column, in the CTEs that read its
-- inputs where DuckDB would not push the outer filter down itself (a CTE read twice is materialised first).
create or replace macro in_changed_units(unit) as
    getvariable('changed_units') is null
    or list_contains(getvariable('changed_units'), unit);
