-- materialized: incremental by file_id of invoices
-- Grain: one row per (file_id, document key hash, category) with at least one goods line of the category in
-- that content (METHODS 2 and 3: int_classified_invoice_lines), with the content's kommunekode. Computed once
-- per content, when it is new (pipelines/warehouse.py materialise_incremental); int_invoice_categories totals it
-- per document.
-- document_hash: hash() of the document key, as in int_invoice_copy_totals.
with goods_lines as (
    select
        lines.file_id,
        lines.kommunekode,
        hash(lines.kommunekode, lines.supplier_cvr, lines.document_type, lines.document_number, lines.issue_date)
            as document_hash,
        lines.category,
        lines.amount_kr
    from intermediate.int_classified_invoice_lines as lines
    where lines.scope_class = 'goods'
),

final as (
    select
        file_id,
        kommunekode,
        document_hash,
        category,
        count(*) as goods_lines,
        cast(sum(amount_kr) as decimal(18, 2)) as goods_spend_kr
    from goods_lines
    group by file_id, kommunekode, document_hash, category
)

select * from final
