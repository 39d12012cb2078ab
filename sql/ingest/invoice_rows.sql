-- ingest.invoice_rows: one row per delivered invoice / credit-note line (CSV row or XML line), typed and
-- normalised, with `reject_reason` saying in words why a row cannot be used (null when it can).
-- Appended one batch of delivered files at a time from the temporary view `landed_invoice_rows` (all text,
-- canonical column names of DATA_CONTRACT, plus file_key, record_number, source_format, folder_kommunekode,
-- leverandoer_cvrs and the record's raw cells), so a file is parsed once, when it arrives.
-- Stored narrow: what is constant per file (content hash, format) is in ingest.files, what is derived
-- (year, UNSPSC segment) is computed by the views that read these rows (ingest.invoice_lines, staging).
with landed as (
    select
        *,
        kommunekode_agrees(kommunekode, folder_kommunekode) as kommunekode_agrees,
        normalise_document_type(dokumenttype) as document_type,
        nullif(trim(fakturanummer), '') as document_number,
        parse_date(fakturadato) as issue_date,
        parse_cvr(leverandoer_cvr) as supplier_cvr,
        parse_amount(beloeb) as amount,
        parse_currency(valuta) as currency
    from landed_invoice_rows
),

checked as (
    select
        *,
        -- the reason text is built only for the rare rows that fail a test (a cheap test on every row first)
        -- the plausible dates and amounts are macros of sql/macros.sql (assets/quality/files.py repeats them)
        case when kommunekode_agrees
            and document_number is not null and document_type is not null
            and issue_date between plausible_min_date() and load_date()
            and supplier_cvr is not null and nullif(trim(linjenummer), '') is not null
            and amount between -max_line_amount_kr() and max_line_amount_kr()
            and currency = 'DKK'
        then null else nullif(concat_ws('; ',
            case when not kommunekode_agrees then kommunekode_reason(kommunekode, folder_kommunekode) end,
            case when document_number is null then 'missing fakturanummer (the document number)' end,
            case when document_type is null
                then 'dokumenttype ''' || coalesce(trim(dokumenttype), '') || ''' is neither Faktura nor Kreditnota' end,
            date_reason('fakturadato', fakturadato, issue_date),
            case when supplier_cvr is null
                then 'leverandoer_cvr ''' || coalesce(trim(leverandoer_cvr), '') || ''' is not an 8-digit CVR number' end,
            case when nullif(trim(linjenummer), '') is null then 'missing linjenummer (the line number)' end,
            amount_reason(beloeb, amount),
            currency_reason(currency)
        ), '') end as reject_reason
    from landed
),

final as (
    select
        file_key,
        record_number,
        folder_kommunekode as kommunekode,
        document_type,
        document_number,
        issue_date,
        supplier_cvr,
        -- XML: every Danish CVR of the supplier party; CSV: null (the one supplier_cvr)
        case when len(leverandoer_cvrs) > 0 then leverandoer_cvrs end as supplier_cvrs,
        nullif(trim(leverandoer_navn), '') as supplier_name,
        nullif(trim(ean), '') as buyer_gln,
        nullif(trim(ordrenummer), '') as order_number,
        normalise_order_number(ordrenummer) as order_number_norm,
        case when document_type = 'credit_note' then nullif(trim(krediteret_fakturanummer), '') end
            as credited_document_number,
        trim(linjenummer) as line_id,
        varebeskrivelse as description,
        normalise_unspsc(unspsc) as unspsc,
        normalise_art(art) as art,
        cast(case when document_type = 'credit_note' then -abs(amount) else amount end as decimal(18, 2)) as amount_kr,
        reject_reason,
        -- an XML line has no raw text: the values it was read with, so that its lines can be told apart
        case when reject_reason is not null then coalesce(
            raw_record_text(raw_cells, raw_delimiter),
            concat_ws('; ', 'linjenummer ' || linjenummer, 'beloeb ' || beloeb,
                'valuta ' || valuta, 'varebeskrivelse ' || varebeskrivelse)
        ) end as raw_record
    from checked
)

select * from final
