-- materialized: view
-- Grain: one row per de-duplicated invoice or credit-note document (document_id).
-- Totals of the document's lines (METHODS 4, 7): total_kr over all lines (fakturamatch compares it with the
-- order), goods_spend_kr over goods lines, unclassified_spend_kr over unclassified lines (data quality).
-- The order reference of a document is its lowest normalised order number (a document names one order).
-- The document's attributes and totals are its winning copy's (int_invoice_document_copies); a copy that may
-- repeat a line_id is totalled over its kept lines only, its order reference taken from them too (METHODS 1,
-- int_invoice_special_lines). A view: the winning copies are read where they are needed.
with winning_copies as (
    select * from intermediate.int_invoice_document_copies
    where is_winning_copy
),

-- METHODS 1: in a copy repeating a line_id only the first record counts, also for the order reference
kept_line_totals as (
    select
        document_id,
        count(*) as line_count,
        count(*) filter (where scope_class = 'goods') as goods_lines,
        count(*) filter (where scope_class = 'not_goods') as not_goods_lines,
        count(*) filter (where scope_class = 'unclassified') as unclassified_lines,
        sum(amount_kr) as total_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'goods'), 0) as goods_spend_kr,
        coalesce(sum(amount_kr) filter (where scope_class = 'unclassified'), 0) as unclassified_spend_kr,
        min(order_number_norm) as order_number_norm,
        min(credited_document_number) as credited_document_number
    from intermediate.int_invoice_special_lines
    where is_kept and not line_ids_distinct
    group by document_id
),

documents as (
    select
        winning_copies.document_id,
        winning_copies.kommunekode,
        winning_copies.supplier_cvr,
        winning_copies.supplier_cvrs,
        winning_copies.document_type,
        winning_copies.document_number,
        winning_copies.issue_date,
        winning_copies.year,
        winning_copies.source_format,
        winning_copies.file_id,
        case when winning_copies.line_ids_distinct then winning_copies.order_number_norm
            else kept_line_totals.order_number_norm end as order_number_norm,
        case when winning_copies.line_ids_distinct then winning_copies.credited_document_number
            else kept_line_totals.credited_document_number end as credited_document_number,
        case when winning_copies.line_ids_distinct then winning_copies.line_rows
            else kept_line_totals.line_count end as line_count,
        case when winning_copies.line_ids_distinct then winning_copies.goods_lines
            else kept_line_totals.goods_lines end as goods_lines,
        case when winning_copies.line_ids_distinct then winning_copies.not_goods_lines
            else kept_line_totals.not_goods_lines end as not_goods_lines,
        case when winning_copies.line_ids_distinct then winning_copies.unclassified_lines
            else kept_line_totals.unclassified_lines end as unclassified_lines,
        case when winning_copies.line_ids_distinct then winning_copies.total_kr
            else cast(kept_line_totals.total_kr as decimal(18, 2)) end as total_kr,
        case when winning_copies.line_ids_distinct then winning_copies.goods_spend_kr
            else cast(kept_line_totals.goods_spend_kr as decimal(18, 2)) end as goods_spend_kr,
        case when winning_copies.line_ids_distinct then winning_copies.unclassified_spend_kr
            else cast(kept_line_totals.unclassified_spend_kr as decimal(18, 2)) end as unclassified_spend_kr,
        winning_copies.document_hash,
        winning_copies.hash_shared
    from winning_copies
    left join kept_line_totals on winning_copies.document_id = kept_line_totals.document_id
),

final as (
    select
        *,
        -- METHODS 4: a purchase is an invoice (not a credit note) with at least one goods line
        document_type = 'invoice' and goods_lines > 0 as is_purchase
    from documents
)

select * from final
