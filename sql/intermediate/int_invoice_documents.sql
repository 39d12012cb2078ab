-- Grain: one row per de-duplicated invoice or credit-note document (document_id).
-- Totals of the document's lines (METHODS 4, 7): total_kr over all lines (fakturamatch compares it with the
-- order), goods_spend_kr over goods lines, unclassified_spend_kr over unclassified lines (data quality).
-- The order reference of a document is its lowest normalised order number (a document names one order).
-- The document's attributes come from its winning copy (int_invoice_document_copies), its totals from its
-- kept lines; a copy that repeats a line_id takes its order reference from the kept lines only.
with winning_copies as (
    select * from intermediate.int_invoice_document_copies
    where is_winning_copy
),

line_totals as (
    select
        document_id,
        count(*) as line_count,
        count(*) filter (where scope_class = 'goods') as goods_lines,
        sum(amount_kr) as total_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'goods'), 0) as goods_spend_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'unclassified'), 0) as unclassified_spend_kr
    from intermediate.int_invoice_lines
    group by document_id
),

-- METHODS 1: in a copy repeating a line_id only the first record counts, also for the order reference
repeating_copies as (
    select document_id, file_id, kommunekode, supplier_cvr, document_type, document_number, issue_date
    from winning_copies
    where not line_ids_distinct
),

kept_records_of_repeating_copies as (
    select kept.document_id, kept.file_id, kept.record_number, kept.line_id
    from intermediate.int_invoice_lines as kept
    inner join repeating_copies on kept.document_id = repeating_copies.document_id
),

repeating_copy_references as (
    select
        repeating_copies.document_id,
        min(staged.order_number_norm) as order_number_norm,
        min(staged.credited_document_number) as credited_document_number
    from staging.stg_invoice_lines as staged
    inner join repeating_copies
        on staged.file_id = repeating_copies.file_id
        and staged.kommunekode = repeating_copies.kommunekode
        and staged.supplier_cvr is not distinct from repeating_copies.supplier_cvr
        and staged.document_type = repeating_copies.document_type
        and staged.document_number = repeating_copies.document_number
        and staged.issue_date = repeating_copies.issue_date
    inner join kept_records_of_repeating_copies as kept
        on repeating_copies.document_id = kept.document_id
        and staged.record_number = kept.record_number
        and staged.line_id is not distinct from kept.line_id
    group by repeating_copies.document_id
),

final as (
    select
        winning_copies.document_id,
        winning_copies.kommunekode,
        winning_copies.supplier_cvr,
        -- every CVR the supplier party names, the primary one included (METHODS 5: a CVR in common)
        list_sort(list_distinct(list_filter(
            list_prepend(winning_copies.supplier_cvr, coalesce(winning_copies.supplier_cvrs, [])),
            lambda x: x is not null
        ))) as supplier_cvrs,
        winning_copies.document_type,
        winning_copies.document_number,
        winning_copies.issue_date,
        winning_copies.year,
        winning_copies.source_format,
        winning_copies.file_id,
        case when winning_copies.line_ids_distinct then winning_copies.order_number_norm
            else repeating_copy_references.order_number_norm end as order_number_norm,
        case when winning_copies.line_ids_distinct then winning_copies.credited_document_number
            else repeating_copy_references.credited_document_number end as credited_document_number,
        line_totals.line_count,
        line_totals.goods_lines,
        cast(line_totals.total_kr as decimal(18, 2)) as total_kr,
        cast(line_totals.goods_spend_kr as decimal(18, 2)) as goods_spend_kr,
        cast(line_totals.unclassified_spend_kr as decimal(18, 2)) as unclassified_spend_kr,
        -- METHODS 4: a purchase is an invoice (not a credit note) with at least one goods line
        winning_copies.document_type = 'invoice' and line_totals.goods_lines > 0 as is_purchase
    from winning_copies
    inner join line_totals on winning_copies.document_id = line_totals.document_id
    left join repeating_copy_references on winning_copies.document_id = repeating_copy_references.document_id
)

select * from final
