-- ingest.order_rows: one row per delivered order line (CSV row or XML order line), typed and normalised,
-- with `reject_reason` in words (null when usable). Appended one batch of files at a time from
-- `landed_order_rows`; stored narrow like ingest.invoice_rows (sql/ingest/invoice_rows.sql).
with landed as (
    select
        *,
        kommunekode_agrees(kommunekode, folder_kommunekode) as kommunekode_agrees,
        nullif(trim(ordrenummer), '') as order_number,
        normalise_order_number(ordrenummer) as order_number_norm,
        parse_date(ordredato) as order_date,
        parse_cvr(leverandoer_cvr) as supplier_cvr,
        parse_amount(beloeb) as amount,
        normalise_order_type(ordretype) as order_type,
        parse_currency(valuta) as currency
    from landed_order_rows
),

checked as (
    select
        *,
        -- the reason text is built only for the rare rows that fail a test (a cheap test on every row first)
        -- the plausible dates and amounts are macros of sql/macros.sql (assets/quality/files.py repeats them)
        case when kommunekode_agrees
            and order_number_norm is not null and nullif(trim(ordrelinje), '') is not null
            and order_date between plausible_min_date() and load_date()
            and amount between -max_line_amount_kr() and max_line_amount_kr() and order_type is not null
            and (supplier_cvr is not null or (source_format = 'xml' and nullif(trim(leverandoer_cvr), '') is null))
            and currency = 'DKK'
        then null else nullif(concat_ws('; ',
            case when not kommunekode_agrees then kommunekode_reason(kommunekode, folder_kommunekode) end,
            case when order_number_norm is null
                then 'ordrenummer ''' || coalesce(trim(ordrenummer), '') || ''' is not an order number' end,
            case when nullif(trim(ordrelinje), '') is null then 'missing ordrelinje (the order line number)' end,
            date_reason('ordredato', ordredato, order_date),
            -- An XML order may name no Danish supplier CVR (it then matches on the order number alone);
            -- a CSV order line must name one.
            case when supplier_cvr is null and (source_format = 'csv' or nullif(trim(leverandoer_cvr), '') is not null)
                then 'leverandoer_cvr ''' || coalesce(trim(leverandoer_cvr), '') || ''' is not an 8-digit CVR number' end,
            amount_reason(beloeb, amount),
            case when order_type is null
                then 'ordretype ''' || trim(ordretype) || ''' is not katalog, punchout, fritekst or e-ordre' end,
            currency_reason(currency)
        ), '') end as reject_reason
    from landed
),

final as (
    select
        file_key,
        record_number,
        folder_kommunekode as kommunekode,
        order_number,
        order_number_norm,
        trim(ordrelinje) as order_line_id,
        order_date,
        supplier_cvr,
        -- XML: every Danish CVR of the seller party (an empty list when none); CSV: null (the one supplier_cvr)
        leverandoer_cvrs as supplier_cvrs,
        nullif(trim(leverandoer_navn), '') as supplier_name,
        nullif(trim(varenummer), '') as item_number,
        varebeskrivelse as description,
        normalise_unspsc(unspsc) as unspsc,
        parse_quantity(antal) as quantity,
        amount as amount_kr,
        order_type,
        nullif(trim(aftalenummer), '') as agreement_number,
        reject_reason,
        -- an XML line has no raw text: the values it was read with, so that its lines can be told apart
        case when reject_reason is not null then coalesce(
            raw_record_text(raw_cells, raw_delimiter),
            concat_ws('; ', 'ordrelinje ' || ordrelinje, 'beloeb ' || beloeb,
                'valuta ' || valuta, 'varebeskrivelse ' || varebeskrivelse)
        ) end as raw_record
    from checked
)

select * from final
