-- materialized: incremental by file_id of invoices
-- Grain: one row per (file_id, document key hash, category) with at least one goods line of the category in
-- that content (METHODS 2 and 3: int_classified_invoice_lines), with the content's kommunekode. Computed once
-- per content, when it is new (pipelines/warehouse.py materialise_incremental); int_invoice_categories totals it
-- per document.
-- document_hash: hash() of the document key, as in int_invoice_file_copies.
with goods_lines as (
    select
        lines.file_key,
        hash(lines.kommunekode, lines.supplier_cvr, lines.document_type, lines.document_number, lines.issue_date)
            as document_hash,
        lines.category,
        lines.amount_kr
    from intermediate.int_classified_invoice_lines as lines
    where lines.scope_class = 'goods'
),

categories as (
    select
        file_key,
        document_hash,
        category,
        count(*) as goods_lines,
        cast(sum(amount_kr) as decimal(18, 2)) as goods_spend_kr
    from goods_lines
    group by file_key, document_hash, category
),

-- grouped by the integer file_key, named after: 16% less time than grouping by file_id and kommunekode
final as (
    select files.file_id, files.kommunekode, categories.* exclude (file_key)
    from categories
    inner join staging.stg_files as files on categories.file_key = files.file_key
)

select * from final
