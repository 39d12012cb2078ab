-- materialized: view
-- Grain: one row per copy of an invoice or credit-note document, i.e. per
-- (kommunekode, supplier_cvr, document_type, document_number, issue_date) x delivered file (file_id).
-- Implements METHODS 1 (document identity): the same document delivered more than once counts once; its
-- winning copy's lines replace every line of the other copies (the ranking: int_invoice_copy_ranks).
-- The copy's totals are those of the one pass over the lines (int_invoice_copy_totals).
-- document_id: a unique integer per document, the same for all its copies: the lowest copy_number of its
-- copies (a copy is numbered by its file and its first record there, int_invoice_copy_totals). hash_shared:
-- the copy was ranked by its exact key (int_invoice_copy_ranks); every other copy is the only copy of its
-- document, and so its winning copy.
with copies as (
    select * from intermediate.int_invoice_copy_totals
),

ranks as (
    select * from intermediate.int_invoice_copy_ranks
),

final as (
    select
        coalesce(ranks.document_id, copies.copy_number) as document_id,
        copies.document_hash,
        copies.kommunekode,
        copies.supplier_cvr,
        copies.document_type,
        copies.document_number,
        copies.issue_date,
        copies.file_id,
        copies.source_format,
        copies.line_rows,
        coalesce(ranks.copies_delivered, 1) as copies_delivered,
        ranks.copy_number is not null as hash_shared,
        coalesce(ranks.is_winning_copy, true) as is_winning_copy,
        -- documents delivered more than once: the winning copy's file (null for a document delivered once)
        case when ranks.copies_delivered > 1 then ranks.winning_file_id end as winning_file_id,
        case when ranks.copies_delivered > 1 then ranks.winning_source_file end as winning_source_file,
        copies.year,
        copies.supplier_cvrs,
        copies.order_number_norm,
        copies.credited_document_number,
        copies.line_ids_distinct,
        copies.total_kr,
        copies.goods_lines,
        copies.goods_spend_kr,
        copies.not_goods_lines,
        copies.unclassified_lines,
        copies.unclassified_spend_kr
    from copies
    left join ranks on copies.copy_number = ranks.copy_number
)

select * from final
